import { describe, expect, it } from 'vitest';
import { CHECKER_NAMES, runCheckers } from '../checks/index.ts';
import { cleanRun, removeEvents } from '../checks/testing.ts';
import { cloneRun } from '../history/simulate.ts';
import type { HistoryEvent } from '../history/types.ts';
import { formatSummary } from './summary.ts';
import { toMarkdown } from './markdown.ts';
import { buildReport, exitCodeFor, faultWindows, generatorCost, generatorHealth } from './build.ts';

const opts = { delivery: { detachGraceMs: 2 } };

describe('buildReport', () => {
  it("carries the report.json fields of docs/architecture.md with the run's figures", () => {
    const run = cleanRun();
    const checks = runCheckers(run.history, run.final, opts);
    const r = buildReport({ scenario: 'edit-storm', history: run.history, final: run.final, checks, thresholds: [{ metric: 'lost', expr: 'count==0', value: 0, passed: true }], environment: { node: '20' }, options: { rate: 5 } });
    expect(Object.keys(r)).toEqual(expect.arrayContaining(['scenario', 'passed', 'checks', 'thresholds', 'counts', 'latency', 'throughput', 'environment']));
    expect(r).toMatchObject({ scenario: 'edit-storm', passed: true, exitCode: 0, environment: { node: '20' }, options: { rate: 5 } });
    expect(r.checks.map((c) => ({ name: c.name, valid: c.valid }))).toHaveLength(CHECKER_NAMES.length);
    expect(r.counts).toEqual({ sent: 13, committed: 11, delivered: 33, lost: 0, duplicated: 0, outOfOrder: 0, acked: 12, failed: 1, rejected: 1, dropped: 0, pending: 0, typing: 0 });
    for (const s of ['e2e', 'invokeToAck', 'ackToCommit', 'commitToPublish', 'publishToReceive', 'editPropagation']) {
      expect(Object.keys(r.latency[s]!).sort()).toEqual(['avg', 'count', 'max', 'min', 'p50', 'p90', 'p99', 'p999']);
    }
    expect(r.latency.e2e).toMatchObject({ count: 33, min: 7, max: 7.05 });
    // Ops were sent from t=10 to t=90 and receipts spread over less than a second: the run's
    // duration is the window (0.197 s).
    expect(r.throughput.opsPerSec).toBeCloseTo(13 / 0.19702, 1);
    expect(r.run).toEqual({ seed: 1, startedAt: '2023-11-14T22:13:20.000Z', durationMs: 197.02 });
    expect(r.percentiles.e2e!.at(-1)).toEqual([100, 7.05]);
    expect(r.timeline.points).toHaveLength(1);
    // One bucket, cut short by the end of the run at 0.197 s: rates over the time it covers.
    expect(r.timeline.points[0]).toMatchObject({ t: 0, opsPerSec: 65.983, deliveriesPerSec: 167.496, errors: 1 });
  });

  it('takes lost and duplicated from the delivery check so that both always agree', () => {
    const run = removeEvents(cleanRun(), (e) => e.type === 'receive' && e.client === 'a' && e.messageId === 'm5');
    const checks = runCheckers(run.history, run.final, opts);
    const r = buildReport({ scenario: 's', history: run.history, final: run.final, checks });
    expect(r).toMatchObject({ passed: false, exitCode: 1, counts: { lost: 1, delivered: 32 } });
    const without = buildReport({ scenario: 's', history: run.history, final: run.final, checks: [] });
    expect(without.counts.lost).toBe(1);
  });

  it("shows e2e as a multiple of the floor measured in the same run, in report.json, the summary and report.md", () => {
    const run = cleanRun();
    const floor: HistoryEvent = { type: 'floor', t: 1, samples: 200, p50Ms: 0.701, p90Ms: 0.9, p99Ms: 1.41, maxMs: 3, minMs: 0.3 };
    const history = [run.history[0]!, floor, ...run.history.slice(1)];
    const r = buildReport({ scenario: 's', history, final: run.final, checks: [] });
    // e2e is 7.01 ms p50 and 7.05 ms p99 (HDR buckets) in the clean run.
    expect(r.floor).toEqual({ samples: 200, p50Ms: 0.701, p90Ms: 0.9, p99Ms: 1.41, maxMs: 3, e2eP50Ratio: 10, e2eP99Ratio: 5 });
    expect(formatSummary(r)).toContain('e2e p50 10× the floor');
    expect(toMarkdown(r)).toContain('p50 0.701 ms, p99 1.41 ms');
    expect(buildReport({ scenario: 's', history: run.history, final: run.final, checks: [] }).floor).toBeUndefined();
  });

  it('computes rates over the load window of a longer run', () => {
    const run = cloneRun(cleanRun());
    const shift = (e: HistoryEvent, k: number) => ({ ...e, t: e.t * k });
    run.history = run.history.map((e) => shift(e, 100));
    const r = buildReport({ scenario: 's', history: run.history, final: run.final, checks: [] });
    // 13 operations between t=1 s and t=9 s.
    expect(r.throughput.opsPerSec).toBeCloseTo(13 / 8, 3);
    expect(r.throughput.loadSeconds).toBe(8);
    expect(r.timeline.points.length).toBe(20);
    expect(r.timeline.points.reduce((n, p) => n + p.opsPerSec, 0)).toBe(13);
  });
});

describe('exit codes and health', () => {
  const valid = { name: 'a', valid: true as const, details: {} };
  it('1 for any checker not valid (unknown included), 99 for thresholds only, 0 otherwise', () => {
    const held = { metric: 'lost', expr: 'count==0', value: 0, passed: true };
    const broke = { ...held, passed: false };
    expect(exitCodeFor([valid], [held])).toBe(0);
    expect(exitCodeFor([valid], [broke])).toBe(99);
    expect(exitCodeFor([valid, { ...valid, valid: 'unknown' }], [held])).toBe(1);
    expect(exitCodeFor([{ ...valid, valid: false }], [broke])).toBe(1);
  });

  it('calls the generator saturated above 50 ms event-loop delay p99 or 90% CPU', () => {
    const h = (loop: number, cpu: number): HistoryEvent => ({ type: 'health', t: 1, eventLoopDelayP99Ms: loop, cpuPercent: cpu });
    expect(generatorHealth([h(10, 50), h(50, 90)])).toEqual({ samples: 2, maxEventLoopDelayP99Ms: 50, maxCpuPercent: 90, saturated: false, threads: [] });
    expect(generatorHealth([h(10, 50), h(50.5, 10)]).saturated).toBe(true);
    expect(generatorHealth([h(1, 91)]).saturated).toBe(true);
    expect(generatorHealth([]).samples).toBe(0);
  });

  it('names the saturated thread: one busy worker marks the run', () => {
    const h = (thread: string, loop: number, cpu: number): HistoryEvent => ({ type: 'health', t: 1, eventLoopDelayP99Ms: loop, cpuPercent: cpu, thread });
    const g = generatorHealth([h('main', 5, 20), h('worker-0', 8, 40), h('worker-1', 70, 95), h('worker-1', 3, 10)]);
    expect(g.saturated).toBe(true);
    expect(g.threads.map((t) => [t.thread, t.samples, t.saturated])).toEqual([['main', 1, false], ['worker-0', 1, false], ['worker-1', 2, true]]);
  });

  it("turns the generator event into CPU per delivery and per operation, per thread", () => {
    const g = generatorCost(
      [{ type: 'generator', t: 9, workers: 2, readerClient: 'light', windowMs: 1000, processCpuUs: 900_000, threads: [{ thread: 'main', busyUs: 100_000, users: 0 }, { thread: 'worker-0', busyUs: 300_000, users: 10 }, { thread: 'worker-1', busyUs: 200_000, users: 10 }] }],
      2000,
      100,
    );
    expect(g).toMatchObject({ workers: 2, readerClient: 'light', cpuUsPerDelivery: 300, cpuUsPerOp: 6000, processCpuUsPerDelivery: 450 });
    expect(g.perWorker?.map((t) => [t.thread, t.busyPercent, t.cpuUsPerDelivery])).toEqual([['main', 10, 50], ['worker-0', 30, 150], ['worker-1', 20, 100]]);
    expect(generatorCost([], 10, 10)).toEqual({});
  });

  it('pairs fault starts and ends, leaving a fault open at the end as end: null', () => {
    const f = (t: number, name: string, phase: 'start' | 'end'): HistoryEvent => ({ type: 'fault', t, name, phase });
    expect(faultWindows([f(1, 'pause', 'start'), f(2, 'kill', 'start'), f(5, 'pause', 'end')])).toEqual([
      { name: 'pause', start: 1, end: 5 },
      { name: 'kill', start: 2, end: null },
    ]);
  });
});
