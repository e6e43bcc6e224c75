import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { simulate, type SimClient, type SimOp } from '../history/simulate.ts';
import type { ReceiveEvent } from '../history/types.ts';
import { CHECKER_NAMES, runChecker, runCheckers } from './index.ts';
import { DEFAULT_ATTACH_GRACE_MS } from './model.ts';
import { cleanRun } from './testing.ts';

describe('runCheckers', () => {
  it('runs every checker on a clean run, all valid', () => {
    const run = cleanRun();
    const results = runCheckers(run.history, run.final, { delivery: { detachGraceMs: 2 } });
    expect(results.map((r) => r.name)).toEqual([...CHECKER_NAMES]);
    expect(results.filter((r) => r.valid !== true)).toEqual([]);
  });

  it('turns a throwing checker into unknown with the error, never valid', () => {
    const r = runChecker('boom', () => { throw new Error('index out of range'); }, [], { rows: [], rejections: [] });
    expect(r).toMatchObject({ name: 'boom', valid: 'unknown', details: { error: 'index out of range' } });
  });

  it('treats a malformed verdict as unknown', () => {
    const r = runChecker('odd', () => ({ valid: 'yes' as unknown as true, details: {} }), [], { rows: [], rejections: [] });
    expect(r.valid).toBe('unknown');
  });

  it('reports unknown from every checker when the input breaks the contract', () => {
    const run = cleanRun();
    const history = [...run.history, null] as unknown as typeof run.history;
    const results = runCheckers(history, { rows: null, rejections: [] } as unknown as typeof run.final);
    expect(results.map((r) => r.valid)).toEqual(CHECKER_NAMES.map(() => 'unknown'));
    expect(results[0]!.details.error).toMatch(/null/);
  });

  it('runs a subset, and rejects an unknown name', () => {
    const run = cleanRun();
    expect(runCheckers(run.history, run.final, { only: ['latency'] }).map((r) => r.name)).toEqual(['latency']);
    expect(() => runCheckers(run.history, run.final, { only: ['nope' as 'latency'] })).toThrow(/unknown checker 'nope'/);
  });
});

/** Random small runs: rooms, clients joining and leaving, posts and edits and deletes by anyone. */
const specArb = fc
  .record({
    clients: fc.array(
      fc.record({ room: fc.constantFrom('r1', 'r2'), joinT: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 200 })), stays: fc.boolean() }),
      { minLength: 1, maxLength: 5 },
    ),
    ops: fc.array(
      fc.record({ t: fc.integer({ min: 10, max: 300 }), kind: fc.constantFrom('post', 'post', 'edit', 'edit', 'delete'), who: fc.nat(), target: fc.nat(), slow: fc.integer({ min: 0, max: 40 }), fail: fc.boolean() }),
      { minLength: 1, maxLength: 30 },
    ),
  })
  .map(({ clients, ops }) => {
    const cs: SimClient[] = [{ id: 'anchor', room: 'r1' }, ...clients.map((c, i) => ({ id: `c${i}`, room: c.room, joinT: c.joinT, leaveT: c.stays ? undefined : c.joinT + 50 }))];
    const posts: string[] = [];
    const simOps: SimOp[] = [{ t: 0.5, op: 'post', client: 'anchor', id: 'first' }];
    ops.forEach((o, i) => {
      const client = cs[o.who % cs.length]!.id;
      if (o.kind === 'post' || posts.length === 0) {
        posts.push(`p${i}`);
        simOps.push({ t: o.t, op: 'post', client, id: `p${i}`, commitDelay: o.slow, fail: o.fail && o.slow > 35 ? 'nack' : undefined });
      } else {
        simOps.push({ t: o.t, op: o.kind as 'edit' | 'delete', client, id: `o${i}`, target: posts[o.target % posts.length]!, commitDelay: o.slow });
      }
    });
    return { clients: cs, ops: simOps };
  });

// PROPERTY_RUNS raises the count for a longer hunt; CI keeps it small.
const RUNS = Number(process.env.PROPERTY_RUNS ?? 150);

describe('properties', () => {
  it('every checker finds every simulated clean run valid', () => {
    fc.assert(
      fc.property(specArb, (spec) => {
        const run = simulate(spec);
        const bad = runCheckers(run.history, run.final).filter((r) => r.valid !== true);
        expect(bad).toEqual([]);
      }),
      { numRuns: RUNS },
    );
  });

  it('delivery catches the removal of any owed receipt', () => {
    fc.assert(
      fc.property(specArb, fc.nat(), (spec, pick) => {
        const run = simulate(spec);
        const joinOf = new Map(spec.clients.map((c) => [c.id, c]));
        const owed = run.history.filter((e): e is ReceiveEvent => {
          if (e.type !== 'receive') return false;
          const c = joinOf.get(e.client)!;
          if (e.commitT! < (c.joinT ?? 0) + DEFAULT_ATTACH_GRACE_MS || c.leaveT !== undefined) return false;
          // Alone with a change, a receipt is also the only witness of its commit time; then the
          // change is owed only to subscribers attached over its whole window, like the anchor.
          return e.client === 'anchor' || run.history.some((x) => x.type === 'receive' && x.eventId === e.eventId && x.client !== e.client);
        });
        fc.pre(owed.length > 0);
        const victim = owed[pick % owed.length]!;
        const history = run.history.filter((e) => e !== victim);
        const [delivery] = runCheckers(history, run.final, { only: ['delivery'] });
        expect(delivery!.valid).toBe(false);
        expect(delivery!.details.lost).toBe(1);
      }),
      { numRuns: RUNS },
    );
  });
});
