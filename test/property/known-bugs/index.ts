/**
 * Properties that fail on main today because of a reported bug, kept out of the default run so
 * that main stays green, and runnable with `npm run property -- --known-bugs` (exit 1 while any
 * still fails). Each prints its shrunk counterexample. When a bug is fixed, its property passes:
 * then move it into the default run.
 */
import fc from 'fast-check';
import { divergences, merge, scenario, type Scenario } from '../pure/view-scenarios.ts';

export interface KnownBugResult {
  failed: boolean;
  numRuns: number;
  seed: number;
  path: string | null;
  /** The shrunk counterexample, told in the chat's terms. */
  counterexample: string | null;
}

export interface KnownBug {
  id: string;
  where: string;
  summary: string;
  check(seed?: number): KnownBugResult;
}

function result<T>(d: fc.RunDetails<[T]>, tell: (x: T) => string): KnownBugResult {
  return { failed: d.failed, numRuns: d.numRuns, seed: d.seed, path: d.counterexamplePath, counterexample: d.counterexample ? tell(d.counterexample[0]) : null };
}

function tellView(s: Scenario): string {
  const landed = s.landings.map((l) => (l.kind === 'live' ? `live ${l.change.name} ${l.change.row.id} v${l.change.row.version}` : `page ${l.row.id} v${l.row.version}`));
  return [
    `changes in commit order: ${s.changes.map((c) => `${c.name} ${c.row.id} v${c.row.version}`).join(', ')}`,
    `landed at the client: ${landed.join(', ')}`,
    `view vs database: ${divergences(merge(s, false), s.db).join('; ')}`,
  ].join('\n');
}

export const KNOWN_BUGS: readonly KnownBug[] = [
  {
    id: 'client-view-hard-delete',
    where: 'harness/workload/client-view.ts (ClientView.apply)',
    summary:
      'A hard DELETE event carries the row as it was (same version as the last UPDATE), so a client that already holds that ' +
      'version ignores it (version <= current) and keeps showing a row the database no longer has.',
    check: (seed) =>
      result(
        fc.check(
          fc.property(scenario({ hardDeletes: true, ordered: true }), (s: Scenario) => divergences(merge(s, false), s.db).length === 0),
          { numRuns: 2000, ...(seed !== undefined ? { seed } : {}) },
        ),
        tellView,
      ),
  },
];
