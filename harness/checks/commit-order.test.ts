import { describe, expect, it } from 'vitest';
import { cloneRun } from '../history/simulate.ts';
import type { ReceiveEvent } from '../history/types.ts';
import { commitOrderChecker, comparePositions } from './commit-order.ts';
import { cleanRun } from './testing.ts';

const check = commitOrderChecker();

/** Swaps, for every subscriber of the room, the arrival of two changes of different rows. */
function swapForEveryone(run: ReturnType<typeof cleanRun>, a: [string, number], b: [string, number]): void {
  const is = (e: (typeof run.history)[number], [id, v]: [string, number]): e is ReceiveEvent =>
    e.type === 'receive' && e.messageId === id && e.version === v;
  for (const client of new Set(run.history.flatMap((e) => (e.type === 'receive' ? [e.client] : [])))) {
    const i = run.history.findIndex((e) => is(e, a) && e.client === client);
    const j = run.history.findIndex((e) => is(e, b) && e.client === client);
    if (i < 0 || j < 0) continue;
    const x = run.history[i] as ReceiveEvent;
    const y = run.history[j] as ReceiveEvent;
    [x.t, y.t] = [y.t, x.t];
    run.history[i] = y;
    run.history[j] = x;
  }
}

describe('commit-order', () => {
  it('compares positions element by element', () => {
    expect(comparePositions([2, 1], [1, 9])).toBeGreaterThan(0);
    expect(comparePositions([2, 1], [2, 3])).toBeLessThan(0);
    expect(comparePositions([2, 3], [2, 3])).toBe(0);
  });

  it('passes a clean run', () => {
    const run = cleanRun();
    expect(check(run.history, run.final)).toMatchObject({ valid: true, details: { inversions: 0 } });
  });

  it('catches two rows of one channel swapped for every subscriber alike', () => {
    const run = cloneRun(cleanRun());
    swapForEveryone(run, ['m1', 1], ['m2', 1]);
    const r = check(run.history, run.final);
    expect(r).toMatchObject({ valid: false, details: { rowsAffected: 1 } });
    expect((r.details.inversions as number)).toBeGreaterThanOrEqual(2);
  });

  it('does not judge receipts without a position, nor a change received twice', () => {
    const run = cloneRun(cleanRun());
    for (const e of run.history) if (e.type === 'receive') delete e.position;
    expect(check(run.history, run.final)).toMatchObject({ valid: true, details: { judged: 0 } });
    const dup = cloneRun(cleanRun());
    const first = dup.history.find((e): e is ReceiveEvent => e.type === 'receive' && e.client === 'a')!;
    dup.history.splice(dup.history.length - 1, 0, { ...first, eventId: 'again', t: dup.history.at(-2)!.t + 1 });
    expect(check(dup.history, dup.final)).toMatchObject({ valid: true });
  });
});
