import { describe, expect, it } from 'vitest';
import { findKnee, stepVerdict, utilizations } from './knee.ts';
import type { StepResult } from './types.ts';

const HARNESS = 'harness (generator)';

/** A step of a sweep; latency p99 in ms, CPU in percent of one core. */
function step(targetRate: number, o: { p99?: number; users?: number; lost?: number; failed?: number; checks?: string[]; genSaturated?: boolean; harnessCpu?: number; pgCpu?: number; connectorCpu?: number; elu?: number; machine?: number | null; ackToCommit?: number } = {}): StepResult {
  const p99 = o.p99 ?? 20;
  const slo = [{ metric: 'e2e_latency', expr: 'p(99)<50', value: p99, passed: p99 < 50 }];
  const base = {
    index: targetRate,
    usersPerRoom: o.users ?? 2,
    targetRate,
    durationMs: 6000,
    refinement: false,
    dir: `step-${targetRate}`,
    achieved: { opsPerSec: targetRate, deliveriesPerSec: targetRate * 4 },
    e2e: { p50: p99 / 3, p90: p99 / 2, p99, max: p99 * 1.5, count: targetRate * 24 },
    stageP99: { e2e: p99, invokeToAck: 3, ackToCommit: o.ackToCommit ?? 10, commitToPublish: 4, publishToReceive: 3 },
    counts: { sent: targetRate * 6, committed: targetRate * 6, delivered: targetRate * 24, lost: o.lost ?? 0, failed: o.failed ?? 0, dropped: 0, rejected: 0 },
    checksFailed: o.checks ?? [],
    slo,
    generator: { saturated: o.genSaturated ?? false, maxEventLoopDelayP99Ms: o.genSaturated ? 80 : 10, maxCpuPercent: o.genSaturated ? 97 : 40 },
    resources: {
      samples: 6,
      parts: [
        { part: 'postgres', cpuAvgPercent: o.pgCpu ?? 10, cpuMaxPercent: o.pgCpu ?? 10, rssMaxMiB: 200 },
        { part: 'connector primary', cpuAvgPercent: o.connectorCpu ?? 8, cpuMaxPercent: o.connectorCpu ?? 8, rssMaxMiB: 120 },
        { part: HARNESS, cpuAvgPercent: o.harnessCpu ?? 40, cpuMaxPercent: o.harnessCpu ?? 40, rssMaxMiB: 250 },
      ],
      machineCpuAvgPercent: o.machine === undefined ? 40 : o.machine,
      harnessEluAvg: o.elu ?? 0.3,
      harnessEluMax: o.elu ?? 0.3,
    },
    traffic: { lambdaInvocations: null, realtimeIn: null, realtimeOut: null },
  };
  return { ...base, ...stepVerdict(base) };
}

describe('step verdicts', () => {
  it('passes a step that held the SLO with nothing lost, failed or dropped', () => {
    expect(step(50)).toMatchObject({ verdict: 'pass', reasons: [] });
  });

  it('names every reason, the first deciding the verdict', () => {
    expect(step(50, { p99: 80 })).toMatchObject({ verdict: 'slo-broken', reasons: ['SLO e2e_latency p(99)<50 broken (80.0)'] });
    expect(step(50, { lost: 2, p99: 80 }).verdict).toBe('errors');
    expect(step(50, { lost: 2, p99: 80 }).reasons).toEqual(['operations 2 lost', 'SLO e2e_latency p(99)<50 broken (80.0)']);
    expect(step(50, { failed: 1 }).reasons).toEqual(['operations 1 failed']);
    expect(step(50, { checks: ['delivery'] }).verdict).toBe('check-failed');
    expect(step(50, { genSaturated: true }).reasons[0]).toMatch(/load generator saturated \(event-loop delay p99 80 ms, CPU 97%\)/);
  });
});

describe('the knee', () => {
  it('is the highest passing rate below the first failure, whatever order the steps ran in (bisection included)', () => {
    const steps = [step(25), step(50), step(75), step(100, { p99: 70 }), step(87.5, { p99: 55 }), step(81.3)];
    const k = findKnee(steps, 2, 2);
    expect(k.status).toBe('found');
    expect(k.knee?.targetRate).toBe(81.3);
    expect(k.firstFailure?.targetRate).toBe(87.5);
  });

  it('does not count a lucky pass above a failure', () => {
    const k = findKnee([step(25), step(50, { p99: 60 }), step(75)], 2, 2);
    expect(k.knee?.targetRate).toBe(25);
    expect(k.firstFailure?.targetRate).toBe(50);
  });

  it('is a lower bound when nothing failed, and absent when the first rate failed', () => {
    expect(findKnee([step(25), step(50)], 2, 2)).toMatchObject({ status: 'lower-bound', knee: { targetRate: 50 }, firstFailure: null });
    expect(findKnee([step(25, { p99: 90 })], 2, 2)).toMatchObject({ status: 'none', knee: null, firstFailure: { targetRate: 25 } });
  });

  it('leaves out a step that was repeated because only the generator failed', () => {
    const k = findKnee([step(25), { ...step(50, { genSaturated: true }), superseded: true }, step(50), step(75, { p99: 70 })], 2, 2);
    expect(k).toMatchObject({ status: 'found', knee: { targetRate: 50 }, firstFailure: { targetRate: 75 } });
  });

  it('keeps users-per-room series apart', () => {
    const steps = [step(25, { users: 2 }), step(50, { users: 2, p99: 70 }), step(25, { users: 8 }), step(50, { users: 8 }), step(75, { users: 8, p99: 70 })];
    expect(findKnee(steps, 2, 2).knee?.targetRate).toBe(25);
    expect(findKnee(steps, 8, 2).knee?.targetRate).toBe(50);
  });
});

describe('what saturated first', () => {
  it('rates Node parts against one core, the harness by its busier of CPU and event loop, Postgres against every core', () => {
    const u = utilizations(step(100, { harnessCpu: 60, elu: 0.9, pgCpu: 120, connectorCpu: 30 }), 2);
    expect(u.map((x) => [x.part, Math.round(x.utilization * 100)])).toEqual([
      [HARNESS, 90],
      ['postgres', 60],
      ['machine (all cores)', 40],
      ['connector primary', 30],
    ]);
    expect(u[0]!.basis).toMatch(/event loop 90% busy/);
  });

  it('names the part that reached its capacity at the first failing step', () => {
    const k = findKnee([step(50), step(100, { p99: 90, connectorCpu: 95, ackToCommit: 12 })], 2, 2);
    expect(k.saturation).toMatchObject({ part: 'connector primary', saturated: true, atRate: 100 });
    expect(k.saturation!.evidence).toMatch(/connector primary at CPU 95% of a core/);
  });

  it('blames the harness process when the generator saturated: the generator shares it with the realtime service and the Lambda endpoint', () => {
    const k = findKnee([step(50), step(150, { genSaturated: true, harnessCpu: 80 })], 2, 2);
    expect(k.saturation).toMatchObject({ part: HARNESS, saturated: true });
    expect(k.saturation!.evidence).toMatch(/peak CPU reached 97% of a core and its event-loop delay p99 80 ms/);
  });

  it('judges resources at the step where the climb stopped, not at a bisection step just above the knee', () => {
    const steps = [step(100), step(150, { genSaturated: true, harnessCpu: 85 }), { ...step(125, { p99: 60, harnessCpu: 60 }), refinement: true }];
    const k = findKnee(steps, 2, 2);
    expect(k.firstFailure?.targetRate).toBe(125);
    expect(k.saturation).toMatchObject({ part: HARNESS, saturated: true, atRate: 150 });
  });

  it('says when the machine, not one part, ran out of CPU', () => {
    const k = findKnee([step(50), step(100, { p99: 90, machine: 95, pgCpu: 120, connectorCpu: 30, harnessCpu: 70 })], 2, 2);
    expect(k.saturation).toMatchObject({ saturated: true, part: HARNESS });
    expect(k.saturation!.evidence).toMatch(/machine's CPU is exhausted \(95% of all 2 cores busy\)/);
    expect(k.saturation!.evidence).not.toMatch(/outside the stack/);
  });

  it('says when processes outside the stack took most of the machine', () => {
    // 10 + 8 + 40 = 58% of one core = 29% of two; the machine was 95% busy.
    const k = findKnee([step(50), step(100, { p99: 90, machine: 95, harnessCpu: 40 })], 2, 2);
    expect(k.saturation!.evidence).toMatch(/69% of the busy time was processes outside the stack/);
  });

  it('calls a latency limit with idle parts queueing, and points at the stage that slowed most', () => {
    const k = findKnee([step(50, { ackToCommit: 10 }), step(100, { p99: 90, ackToCommit: 70 })], 2, 2);
    expect(k.saturation).toMatchObject({ saturated: false, part: HARNESS, slowestGrowingStage: { stage: 'ackToCommit', fromMs: 10, toMs: 70 } });
    expect(k.saturation!.evidence).toMatch(/the limit is latency \(queueing\), not CPU/);
    // A series that failed at its first rate has no growth to show.
    expect(findKnee([step(50, { p99: 90 })], 2, 2).saturation?.slowestGrowingStage).toBeNull();
  });
});
