import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createDeliveryTracker, refusalText, type WriteStatus } from './delivery.ts';

const timings = { slowAfterMs: 100, failAfterMs: 1_000, pollEveryMs: 50 };

describe('delivery tracker', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function setup(refusals: Array<{ id: string; reason: string }> = []) {
    const seen: Array<[string, WriteStatus, string | undefined]> = [];
    const asked: string[][] = [];
    const tracker = createDeliveryTracker({
      timings,
      onStatus: (key, status, reason) => seen.push([key, status, reason]),
      fetchRefusals: async (ids) => (asked.push(ids), refusals.filter((r) => ids.includes(r.id))),
    });
    return { tracker, seen, asked };
  }

  it('goes pending, slow, then failed when nothing confirms it', async () => {
    const { tracker, seen } = setup();
    tracker.track('p1', 'p1');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(seen.map(([, s]) => s)).toEqual(['pending', 'slow', 'failed']);
  });

  it('stops at the confirmation, and stops asking about refusals', async () => {
    const { tracker, seen, asked } = setup();
    tracker.track('p1', 'p1');
    await vi.advanceTimersByTimeAsync(60);
    tracker.settle('p1');
    const askedBefore = asked.length;
    await vi.advanceTimersByTimeAsync(2_000);
    expect(seen.map(([, s]) => s)).toEqual(['pending']);
    expect(asked.length).toBe(askedBefore);
  });

  it('reports a refusal with its reason, for the op id it was tracked under', async () => {
    const { tracker, seen } = setup([{ id: 'op-9', reason: 'not_author' }]);
    tracker.track('op:m1', 'op-9');
    tracker.track('p2', 'p2');
    await vi.advanceTimersByTimeAsync(60);
    expect(seen).toContainEqual(['op:m1', 'refused', 'not_author']);
    await vi.advanceTimersByTimeAsync(2_000);
    // Refused is final: no slow or failed afterwards for it; the other write times out normally.
    expect(seen.filter(([k]) => k === 'op:m1').map(([, s]) => s)).toEqual(['pending', 'refused']);
    expect(seen.filter(([k]) => k === 'p2').map(([, s]) => s)).toEqual(['pending', 'slow', 'failed']);
  });

  it('words the reasons for people', () => {
    expect(refusalText('invalid_text')).toContain('cannot store');
    expect(refusalText('something_new')).toContain('something_new');
  });
});
