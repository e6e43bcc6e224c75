import { describe, expect, it } from 'vitest';
import type { FinalState, HistoryEvent, ReceiveEvent } from '../history/types.ts';
import { cloneRun } from '../history/simulate.ts';
import { analyzeCommonOrder, commonOrderChecker, stronglyConnected } from './common-order.ts';
import { cleanRun } from './testing.ts';

const check = commonOrderChecker();

function receipt(client: string, eventId: string, t: number): ReceiveEvent {
  return { type: 'receive', t, client, room: 'r', eventId, name: 'INSERT', messageId: eventId, version: 1, deleted: false, text: eventId, author: 'z', applied: true };
}
const emptyFinal: FinalState = { rows: [], rejections: [] };
const runOf = (seqs: Record<string, string[]>): HistoryEvent[] => [
  { type: 'run-start', t: 0, scenario: 's', seed: 1, epochMs: 0, options: {} },
  ...Object.entries(seqs).flatMap(([client, ids]) => ids.map((id, i) => receipt(client, id, i + 1))),
  { type: 'run-end', t: 100 },
];

describe('common-order', () => {
  it('passes a clean run', () => {
    const run = cleanRun();
    expect(check(run.history, run.final)).toMatchObject({ valid: true, details: { rooms: 2, eventsInConflict: 0 } });
  });

  it('passes subscribers that saw different subsets in a compatible order', () => {
    const h = runOf({ a: ['e1', 'e2', 'e4'], b: ['e2', 'e3', 'e4'], c: ['e1', 'e3'] });
    expect(check(h, emptyFinal).valid).toBe(true);
  });

  it('catches two subscribers that saw two events in opposite orders', () => {
    const run = cloneRun(cleanRun());
    const bs = run.history.filter((e): e is ReceiveEvent => e.type === 'receive' && e.client === 'b');
    const [first, second] = [bs[0]!, bs[1]!];
    [first.t, second.t] = [second.t, first.t];
    run.history[run.history.indexOf(first)] = second;
    run.history[run.history.indexOf(second)] = first;
    const r = check(run.history, run.final);
    expect(r.valid).toBe(false);
    expect(r.details.eventsInConflict).toBe(2);
    const conflict = analyzeCommonOrder(run.history, run.final).cycles[0]!;
    expect(conflict.room).toBe('lobby');
    expect(conflict.cycle.map((e) => e.client).sort()).toEqual(['a', 'b']);
  });

  it('catches a three-way disagreement that no pair of subscribers shows on its own', () => {
    const h = runOf({ a: ['x', 'y'], b: ['y', 'z'], c: ['z', 'x'] });
    const r = check(h, emptyFinal);
    expect(r).toMatchObject({ valid: false, details: { eventsInConflict: 3 }, failedAt: 2 });
    const cycle = analyzeCommonOrder(h, emptyFinal).cycles[0]!.cycle;
    expect(cycle).toHaveLength(3);
  });

  it('finds strongly connected components without recursion on long chains', () => {
    const adj = new Map<string, Set<string>>();
    const n = 50_000;
    for (let i = 0; i < n; i++) adj.set(`n${i}`, new Set(i + 1 < n ? [`n${i + 1}`] : ['n0']));
    const sccs = stronglyConnected(adj);
    expect(sccs).toHaveLength(1);
    expect(sccs[0]).toHaveLength(n);
  });
});
