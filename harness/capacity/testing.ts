/** A sweep step with fixed figures, for the knee and attribution tests. */
import { stepVerdict } from './knee.ts';
import type { StepResult } from './types.ts';

export const HARNESS_PART = 'harness (generator)';

export interface StepFigures {
  p99?: number;
  users?: number;
  lost?: number;
  failed?: number;
  checks?: string[];
  genSaturated?: boolean;
  /** CPU of each part in percent of one core. */
  harnessCpu?: number;
  pgCpu?: number;
  connectorCpu?: number;
  realtimeCpu?: number;
  lambdaCpu?: number;
  elu?: number;
  machine?: number | null;
  /** Stage p99s, ms. */
  invokeToAck?: number;
  ackToCommit?: number;
  commitToPublish?: number;
  publishToReceive?: number;
}

export function step(targetRate: number, o: StepFigures = {}): StepResult {
  const p99 = o.p99 ?? 20;
  const slo = [{ metric: 'e2e_latency', expr: 'p(99)<50', value: p99, passed: p99 < 50 }];
  const part = (name: string, cpu: number, rss: number) => ({ part: name, cpuAvgPercent: cpu, cpuMaxPercent: cpu, rssMaxMiB: rss });
  const base = {
    index: targetRate,
    usersPerRoom: o.users ?? 2,
    targetRate,
    durationMs: 6000,
    refinement: false,
    dir: `step-${targetRate}`,
    achieved: { opsPerSec: targetRate, deliveriesPerSec: targetRate * 4 },
    e2e: { p50: p99 / 3, p90: p99 / 2, p99, max: p99 * 1.5, count: targetRate * 24 },
    stageP99: {
      e2e: p99,
      invokeToAck: o.invokeToAck ?? 3,
      ackToCommit: o.ackToCommit ?? 10,
      commitToPublish: o.commitToPublish ?? 4,
      publishToReceive: o.publishToReceive ?? 3,
    },
    counts: { sent: targetRate * 6, committed: targetRate * 6, delivered: targetRate * 24, lost: o.lost ?? 0, failed: o.failed ?? 0, dropped: 0, rejected: 0 },
    checksFailed: o.checks ?? [],
    slo,
    generator: { saturated: o.genSaturated ?? false, maxEventLoopDelayP99Ms: o.genSaturated ? 80 : 10, maxCpuPercent: o.genSaturated ? 97 : 40 },
    resources: {
      samples: 6,
      parts: [
        part('postgres', o.pgCpu ?? 10, 200),
        part('realtime', o.realtimeCpu ?? 20, 150),
        part('lambda', o.lambdaCpu ?? 20, 300),
        part('connector primary', o.connectorCpu ?? 8, 120),
        part(HARNESS_PART, o.harnessCpu ?? 40, 250),
      ],
      machineCpuAvgPercent: o.machine === undefined ? 40 : o.machine,
      harnessEluAvg: o.elu ?? 0.3,
      harnessEluMax: o.elu ?? 0.3,
    },
    traffic: { lambdaInvocations: null, realtimeIn: null, realtimeOut: null },
  };
  return { ...base, ...stepVerdict(base) };
}
