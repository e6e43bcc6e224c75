/**
 * `npm run scenario self-check`: proves the checkers can fail. The unmutated stack must pass a
 * short edit-storm; each planted defect must make the checker that should catch it fail.
 * A mutant the stack cannot plant yet is reported as such, and makes the self-check fail:
 * an unproven checker is not a proven one.
 */
import { findScenario } from '../../scenarios/index.ts';
import type { StackOptions } from '../stack/index.ts';
import { executeScenario } from './execute.ts';
import { MUTANTS, MUTANT_NAMES, type MutantName } from './mutants.ts';

/** Mutants the stack can plant today. */
const WIRED: readonly MutantName[] = ['view-no-version-check'];

export async function runSelfCheck(opts: {
  seed: number;
  stackOpts: Pick<StackOptions, 'pg' | 'databaseUrl'>;
  print: (s: string) => void;
}): Promise<number> {
  const scenario = findScenario('edit-storm')!;
  const overrides = { durationMs: 8000, rate: 40 };
  const rows: Array<[string, string, string]> = [];
  let ok = true;
  const run = (mutants: MutantName[], sc = scenario) =>
    executeScenario({ scenario: sc, overrides, seed: opts.seed, thresholdFlags: [], mutants, stackOpts: opts.stackOpts, quiet: true });

  opts.print(`self-check: seed ${opts.seed}; baseline first, then each planted defect\n`);
  const base = await run([]);
  const baseOk = base.report.checks.every((c) => c.valid === true);
  ok &&= baseOk;
  rows.push(['(none)', baseOk ? 'all checks valid' : `FAILED: ${base.report.checks.filter((c) => c.valid !== true).map((c) => c.name).join(', ')}`, base.outDir]);

  for (const m of MUTANT_NAMES) {
    if (!WIRED.includes(m)) {
      ok = false;
      rows.push([m, 'NOT PLANTED: the stack has no switch for this defect yet', '']);
      continue;
    }
    const def = MUTANTS[m] as { scenario?: string };
    const r = await run([m], (def.scenario && findScenario(def.scenario)) || scenario);
    const expected = MUTANTS[m].caughtBy as readonly string[];
    const caughtBy = r.report.checks.filter((c) => c.valid === false && expected.includes(c.name)).map((c) => c.name);
    ok &&= caughtBy.length > 0;
    rows.push([m, caughtBy.length ? `caught by ${caughtBy.join(', ')}` : `NOT CAUGHT (expected ${expected.join(' or ')})`, r.outDir]);
  }
  const w = Math.max(...rows.map((r) => r[0].length));
  const v = Math.max(...rows.map((r) => r[1].length));
  for (const [m, verdict, dir] of rows) opts.print(`${m.padEnd(w)}  ${verdict.padEnd(v)}  ${dir}\n`);
  opts.print(ok ? 'self-check passed\n' : 'self-check FAILED\n');
  return ok ? 0 : 1;
}
