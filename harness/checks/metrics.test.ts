import { describe, expect, it } from 'vitest';
import { cloneRun, simulate } from '../history/simulate.ts';
import type { ReceiveEvent } from '../history/types.ts';
import { computeMetrics, METRICS } from './metrics.ts';
import { cleanRun, insertEvent, removeEvents } from './testing.ts';

describe('computeMetrics', () => {
  it('derives every metric of a clean run', () => {
    const run = cloneRun(cleanRun());
    run.history.splice(3, 0,
      { type: 'health', t: 5, eventLoopDelayP99Ms: 12.5, cpuPercent: 40 },
      { type: 'health', t: 6, eventLoopDelayP99Ms: 3, cpuPercent: 95 },
      { type: 'dropped', t: 7, op: 'post', reason: 'behind schedule' },
    );
    const m = computeMetrics(run.history, run.final, { delivery: { detachGraceMs: 2 } });
    expect(Object.keys(m).sort()).toEqual(Object.keys(METRICS).sort());
    for (const [name, def] of Object.entries(METRICS)) expect(m[name as keyof typeof m].type, name).toBe(def.type);
    const seconds = run.history.at(-1)!.t / 1000;
    expect(m.lost).toEqual({ type: 'counter', count: 0, rate: 0 });
    expect(m.dropped).toEqual({ type: 'counter', count: 1, rate: 1 / seconds });
    expect(m.errors).toMatchObject({ count: 1 });
    expect(m.rejected).toMatchObject({ count: 1 });
    expect(m.ops).toMatchObject({ count: 13 });
    expect(m.deliveries).toMatchObject({ count: 33 });
    expect(m.generator_event_loop_p99).toEqual({ type: 'gauge', value: 12.5 });
    expect(m.generator_cpu).toEqual({ type: 'gauge', value: 95 });
    expect(m.author_reorder_rate).toEqual({ type: 'rate', rate: 0, passes: 0, total: 5 });
    if (m.e2e_latency.type !== 'trend') throw new Error('e2e_latency is a trend');
    expect(m.e2e_latency.histogram.count).toBe(33);
  });

  it('counts planted defects the way the checkers do', () => {
    const run = cleanRun();
    const dup = receivesOf(run)[0]!;
    let bad = removeEvents(run, (e) => e.type === 'receive' && e.client === 'a' && e.messageId === 'm5');
    bad = insertEvent(bad, { ...dup, t: dup.t + 1 });
    bad = insertEvent(bad, { ...dup, eventId: 'ghost', messageId: 'ghost', t: dup.t + 2 });
    const m = computeMetrics(bad.history, bad.final, { delivery: { detachGraceMs: 2 } });
    expect(m.lost).toMatchObject({ count: 1 });
    expect(m.duplicated).toMatchObject({ count: 1 });
    expect(m.phantom).toMatchObject({ count: 1 });
  });

  it('reports the reorder rate of posts', () => {
    const run = simulate({
      clients: [{ id: 'a', room: 'r' }],
      ops: [{ t: 1, op: 'post', client: 'a', commitDelay: 20 }, { t: 2, op: 'post', client: 'a' }],
    });
    expect(computeMetrics(run.history, run.final).author_reorder_rate).toMatchObject({ rate: 0.5, total: 2 });
  });
});

function receivesOf(run: ReturnType<typeof cleanRun>): ReceiveEvent[] {
  return run.history.filter((e): e is ReceiveEvent => e.type === 'receive');
}
