/**
 * The connector's CLI with a planted defect, for the harness's self-check only (never shipped):
 * `cli-with-defects.ts --planted-defect publish-without-waiting [the CLI's own options]`.
 * The defect is deliberately unreachable from a config file or the shipped CLI.
 */
import type { PlantedDefect } from '../src/connector.ts';
import { runCli } from '../src/run-cli.ts';

const DEFECTS: readonly PlantedDefect[] = ['publish-without-waiting', 'swap-rows'];

const [flag, value, ...rest] = process.argv.slice(2);
const defect = DEFECTS.find((d) => d === value);
if (flag !== '--planted-defect' || !defect) {
  process.stderr.write(`error: expected --planted-defect ${DEFECTS.join('|')} first, got ${JSON.stringify([flag, value])}\n`);
  process.exit(2);
}
runCli([...process.argv.slice(0, 2), ...rest], { plantedDefect: defect });
