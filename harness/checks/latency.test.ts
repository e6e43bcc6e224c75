import { describe, expect, it } from 'vitest';
import { simulate } from '../history/simulate.ts';
import { LatencyHistogram } from './histogram.ts';
import { latencyChecker } from './latency.ts';
import { analyzeLatency } from './latency-samples.ts';
import { cleanRun, removeEvents } from './testing.ts';

describe('latency', () => {
  it('measures every stage of a run with known delays', () => {
    const run = simulate({
      clients: [{ id: 'a', room: 'r' }, { id: 'b', room: 'r' }, { id: 'c', room: 'r', joinT: 30 }],
      ops: [
        { t: 10, op: 'post', client: 'a', id: 'm1' },
        { t: 20, op: 'edit', client: 'a', target: 'm1', id: 'e1' },
        { t: 40, op: 'edit', client: 'a', target: 'm1', id: 'e2' },
        { t: 50, op: 'delete', client: 'a', target: 'm1', id: 'd1' },
      ],
      delays: { ack: 2, commit: 5, publish: 3, deliver: 4 },
    });
    const a = analyzeLatency(run.history, run.final);
    const s = (stage: keyof typeof a.histograms) => a.histograms[stage].summary();
    expect(s('invokeToAck')).toMatchObject({ count: 4, min: 2, max: 2 });
    expect(s('ackToCommit')).toMatchObject({ count: 4, min: 5, max: 5 });
    expect(s('commitToPublish')).toMatchObject({ count: 4, min: 3, max: 3 });
    // Receipts: post and e1 reach a, b; e2 and the delete reach a, b, c (c at +0.02).
    expect(s('publishToReceive')).toMatchObject({ count: 10, min: 4, max: 4.02 });
    expect(s('e2e')).toMatchObject({ count: 10, min: 14, max: 14.02 });
    // Edit propagation: until the last owed subscriber (c from e2 on) holds the version.
    expect(a.samples.editPropagation.map((x) => Math.round(x.ms * 100) / 100)).toEqual([14.01, 14.02]);
    expect(a.unattributed).toBe(0);
    expect(latencyChecker()(run.history, run.final)).toMatchObject({ valid: true, details: { unit: 'ms' } });
  });

  it('does not wait, for edit propagation, on a subscriber that left before the edit was published', () => {
    // The connector publishes 1.5 s after each commit; c leaves in between, so it is not owed e1.
    const run = simulate({
      clients: [{ id: 'a', room: 'r' }, { id: 'b', room: 'r' }, { id: 'c', room: 'r', leaveT: 1200 }],
      ops: [
        { t: 10, op: 'post', client: 'a', id: 'm1' },
        { t: 20, op: 'edit', client: 'a', target: 'm1', id: 'e1' },
      ],
      delays: { ack: 2, commit: 5, publish: 1500, deliver: 4 },
    });
    expect(run.history.some((e) => e.type === 'receive' && e.client === 'c')).toBe(false);
    const a = analyzeLatency(run.history, run.final);
    expect(a.incompletePropagation).toBe(0);
    expect(a.samples.editPropagation).toHaveLength(1);
  });

  it('counts receipts of rows no operation of the run produced as unattributed', () => {
    const run = cleanRun();
    const stripped = removeEvents(run, (e) => e.type === 'invoke' && e.opId === 'm2');
    const a = analyzeLatency(stripped.history, stripped.final);
    expect(a.unattributed).toBe(3);
  });

  it('is unknown, never valid, when nothing could be measured', () => {
    const run = removeEvents(cleanRun(), (e) => e.type === 'receive');
    expect(latencyChecker()(run.history, run.final)).toMatchObject({ valid: 'unknown' });
  });

  it('records negative stage samples (clock disagreement) as zero and counts them', () => {
    const run = simulate({ clients: [{ id: 'a', room: 'r' }], ops: [{ t: 10, op: 'post', client: 'a' }], delays: { ack: 9, commit: -4 } });
    const r = latencyChecker()(run.history, run.final);
    expect(r.details.negativeSamples).toEqual({ ackToCommit: 1 });
  });
});

describe('LatencyHistogram', () => {
  it('keeps sub-millisecond precision within 0.1% and exact extremes', () => {
    const h = new LatencyHistogram();
    for (let i = 1; i <= 1000; i++) h.record(i * 0.1);
    const s = h.summary();
    expect(s.count).toBe(1000);
    expect(s.min).toBe(0.1);
    expect(s.max).toBe(100);
    expect(s.avg).toBeCloseTo(50.05, 3);
    expect(Math.abs(s.p50 - 50) / 50).toBeLessThan(0.001);
    expect(Math.abs(s.p99 - 99) / 99).toBeLessThan(0.001);
    expect(h.percentile(100)).toBe(100);
    expect(new LatencyHistogram().summary().count).toBe(0);
    expect(Number.isNaN(new LatencyHistogram().percentile(50))).toBe(true);
  });
});
