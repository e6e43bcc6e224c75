/**
 * The client view merge: a late joiner attaches to incoming, then loads a history page; live
 * events (in any order, some twice) and the page's rows land interleaved in any order. Once
 * everything has landed, the view must equal the database's rows (a deleted row may be absent,
 * or a tombstone carrying the database's version). The planted `view-no-version-check` defect
 * must make the same property fail.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { divergences, merge, scenario } from './view-scenarios.ts';

const mergeProperty = (ignoreVersions: boolean, opts: { hardDeletes: boolean; ordered: boolean }) =>
  fc.property(scenario(opts), (s) => {
    expect(divergences(merge(s, ignoreVersions), s.db)).toEqual([]);
  });

describe('client view merge (property)', () => {
  it('history page + live events in commit order, some twice, page landing anywhere: the view equals the database', () => {
    fc.assert(mergeProperty(false, { hardDeletes: false, ordered: true }), { numRuns: 2000 });
  });

  it('the same with live events in any order', () => {
    fc.assert(mergeProperty(false, { hardDeletes: false, ordered: false }), { numRuns: 2000 });
  });

  it('with hard DELETEs among the changes (a row removed outright), in commit order or any order', () => {
    fc.assert(mergeProperty(false, { hardDeletes: true, ordered: true }), { numRuns: 1000 });
    fc.assert(mergeProperty(false, { hardDeletes: true, ordered: false }), { numRuns: 1000 });
  });

  it('finds the planted view-no-version-check defect, with a short counterexample', () => {
    const r = fc.check(mergeProperty(true, { hardDeletes: false, ordered: true }), { numRuns: 2000, seed: 42 });
    expect(r.failed).toBe(true);
    const [s] = r.counterexample ?? [];
    expect(s!.landings.length).toBeLessThanOrEqual(4);
  });
});

