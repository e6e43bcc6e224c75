/**
 * npm run load:k6 -- [options] <script> [k6 options]: runs a k6 script (scenarios/k6) with the k6
 * binary from PATH and converts its summary into report.json/md/html; or, with --convert, converts
 * a summary from a k6 run elsewhere.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { formatSummary } from '../report/summary.ts';
import { convertSummary, defaultRunDir, type Converted, findExecutable, installHint, k6Version, resolveScript, runK6, scriptLabel, scriptNames, summaryFileIn } from '../k6/runner.ts';
import { EXIT_USAGE, UsageError } from './common.ts';

const EXIT_NO_K6 = 127;

const describeRun = (c: Converted) =>
  `${formatSummary(c.report, { runDir: c.runDir })}\nFrom k6: the harness's checkers did not run (k6 keeps no history); see "notes" in report.json.\n`;

const program = new Command('npm run load:k6 --')
  .description('Run a k6 load script against the stack and write its report, or convert a k6 summary.')
  .argument('[script]', `k6 script: ${scriptNames().join(', ')}, or a path`)
  .argument('[k6-options...]', 'passed to `k6 run` as they are (everything after the script)')
  .option('--out <dir>', 'run directory (default reports/k6-<script>/<timestamp>)')
  .option('--stack <file>', 'endpoints file (first line of `npm run stack -- --json`), given to the script as STACK_JSON')
  .option('--convert <summary.json>', "convert a k6 summary (handleSummary data or --summary-export) instead of running k6")
  .option('--scenario <name>', 'scenario name for --convert when the summary does not carry one')
  .passThroughOptions()
  .addHelpText(
    'after',
    [
      '',
      'Options before <script> are this command\'s; everything after it goes to k6 (e.g. -e RATE=120 -e DURATION=1m).',
      'Environment for the scripts: see scenarios/k6/README.md.',
      `Exit codes: k6's own when it fails (99: thresholds failed); else 0, or 1 when a k6 check failed;`,
      `${EXIT_NO_K6} when k6 is not on PATH; ${EXIT_USAGE} bad usage.`,
    ].join('\n'),
  )
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : EXIT_USAGE));

async function main(): Promise<number> {
  program.parse();
  const o = program.opts<{ out?: string; stack?: string; convert?: string; scenario?: string }>();
  const [script, k6Args = []] = program.processedArgs as [string | undefined, string[] | undefined];
  const out = o.out ? resolve(o.out) : undefined;

  if (o.convert) {
    if (script) throw new UsageError('--convert takes no script; run either a script or a conversion');
    const c = await convertSummary(resolve(o.convert), { ...(out ? { runDir: out } : {}), ...(o.scenario ? { scenario: o.scenario } : {}) }).catch((e: unknown) => {
      throw new UsageError((e as Error).message);
    });
    process.stdout.write(describeRun(c));
    return c.report.exitCode;
  }

  if (!script) throw new UsageError(`expected a script (${scriptNames().join(', ')}, or a path) or --convert SUMMARY.json; see --help`);
  let scriptPath: string;
  try {
    scriptPath = resolveScript(script);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const k6 = findExecutable('k6');
  if (!k6) {
    process.stderr.write(`${installHint()}\n`);
    return EXIT_NO_K6;
  }
  const runDir = out ?? defaultRunDir(scriptLabel(scriptPath));
  mkdirSync(runDir, { recursive: true });
  const args = o.stack ? ['-e', `STACK_JSON=${resolve(o.stack)}`, ...k6Args] : k6Args;
  const version = k6Version(k6);
  process.stderr.write(`[load:k6] ${version ?? k6} run ${scriptPath} -> ${runDir}\n`);
  const code = await runK6({ k6, script: scriptPath, k6Args: args, runDir });
  const summary = summaryFileIn(runDir);
  if (!summary) {
    process.stderr.write(`[load:k6] k6 exited with ${code} and wrote no summary into ${runDir}; no report\n`);
    return code === 0 ? 1 : code;
  }
  const c = await convertSummary(summary, { runDir, scenario: scriptLabel(scriptPath), ranHere: version ? { k6Version: version } : {} });
  process.stdout.write(describeRun(c));
  return code !== 0 ? code : c.report.exitCode;
}

// Not runMain: its SIGINT handler would exit before k6, which also got the Ctrl-C, writes its summary.
main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`error: ${(err instanceof Error ? err.message : String(err)).split('\n')[0]}\n`);
    process.exit(err instanceof UsageError ? EXIT_USAGE : 1);
  },
);
