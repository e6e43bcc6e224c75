/**
 * `npm run scenario self-check`: proves the checkers can fail. Every scenario a mutant is tried
 * against must first pass unmutated; then each planted defect, run against the scenario that
 * exposes it, must make one of the checkers that should catch it fail. A mutant that is not
 * caught, or a baseline that does not pass, fails the self-check: an unproven checker is not a
 * proven one.
 */
import type { StackOptions } from '../stack/index.ts';
import { executeScenario } from './execute.ts';
import { MUTANTS, MUTANT_NAMES, type MutantName } from './mutants.ts';
import type { ScenarioDefinition } from './scenario.ts';

const scenarioOf = (m: MutantName): string => (MUTANTS[m] as { scenario?: string }).scenario ?? 'edit-storm';

export async function runSelfCheck(opts: {
  seed: number;
  stackOpts: Pick<StackOptions, 'pg' | 'databaseUrl' | 'schema' | 'keep'>;
  print: (s: string) => void;
  /** The scenario registry, passed in because scenarios are built on the runner, not under it. */
  findScenario: (name: string) => ScenarioDefinition | undefined;
  /** Only these mutants (default: all). */
  only?: readonly MutantName[];
  /** Load duration per run (default: each scenario's own, capped at 12 s). */
  durationMs?: number;
}): Promise<number> {
  const mutants = opts.only?.length ? opts.only : MUTANT_NAMES;
  const names = [...new Set(mutants.map(scenarioOf))];
  const rows: Array<[string, string, string, string]> = [];
  let ok = true;
  const run = (sc: ScenarioDefinition, ms: MutantName[]) =>
    executeScenario({
      scenario: sc,
      overrides: { durationMs: opts.durationMs ?? Math.min(sc.defaults.durationMs, 12_000) },
      seed: opts.seed,
      thresholdFlags: [],
      mutants: ms,
      stackOpts: opts.stackOpts,
      quiet: true,
    });

  opts.print(`self-check: seed ${opts.seed}; ${names.length} scenario(s) unmutated first, then ${mutants.length} planted defect(s)\n`);
  for (const name of names) {
    const sc = opts.findScenario(name)!;
    const t0 = performance.now();
    const base = await run(sc, []);
    const bad = base.report.checks.filter((c) => c.valid !== true).map((c) => c.name);
    ok &&= bad.length === 0;
    rows.push([`(none) on ${name}`, bad.length ? `FAILED: ${bad.join(', ')}` : 'all checks valid', secs(t0), base.outDir]);
    opts.print(`  ${rows.at(-1)!.slice(0, 3).join('  ')}\n`);
  }
  for (const m of mutants) {
    const sc = opts.findScenario(scenarioOf(m))!;
    const t0 = performance.now();
    const r = await run(sc, [m]);
    const expected = MUTANTS[m].caughtBy as readonly string[];
    const caughtBy = r.report.checks.filter((c) => c.valid === false && expected.includes(c.name)).map((c) => c.name);
    const others = r.report.checks.filter((c) => c.valid === false && !expected.includes(c.name)).map((c) => c.name);
    ok &&= caughtBy.length > 0;
    const verdict = caughtBy.length
      ? `caught by ${caughtBy.join(', ')}${others.length ? ` (also failed: ${others.join(', ')})` : ''}`
      : `NOT CAUGHT (expected ${expected.join(' or ')}${others.length ? `; failed instead: ${others.join(', ')}` : ''})`;
    rows.push([`${m} on ${sc.name}`, verdict, secs(t0), r.outDir]);
    opts.print(`  ${rows.at(-1)!.slice(0, 3).join('  ')}\n`);
  }
  const w = Math.max(...rows.map((r) => r[0].length));
  const v = Math.max(...rows.map((r) => r[1].length));
  opts.print(`\n${'defect'.padEnd(w)}  ${'verdict'.padEnd(v)}  time    run directory\n`);
  for (const [m, verdict, t, dir] of rows) opts.print(`${m.padEnd(w)}  ${verdict.padEnd(v)}  ${t.padStart(6)}  ${dir}\n`);
  opts.print(ok ? 'self-check passed: every planted defect was caught and every baseline passed\n' : 'self-check FAILED\n');
  return ok ? 0 : 1;
}

function secs(t0: number): string {
  return `${((performance.now() - t0) / 1000).toFixed(0)} s`;
}
