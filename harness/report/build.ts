/** Assembling report.json from a run's history, final state, check results and thresholds. */
import { analyzeAcknowledgedWrites } from '../checks/acknowledged-writes.ts';
import { analyzeDelivery } from '../checks/delivery.ts';
import { analyzeLatency, STAGES } from '../checks/latency-samples.ts';
import { indexRun, isWrite, maxOf, minOf } from '../checks/model.ts';
import type { ThresholdResult } from '../checks/thresholds.ts';
import { analyzeVersionOrder } from '../checks/version-order.ts';
import type { CheckResult, FinalState, FloorEvent, GeneratorCostEvent, HistoryEvent } from '../history/types.ts';
import { buildTimeline } from './timeline.ts';
import type { FaultWindow, FloorSummary, GeneratorHealth, Report, StageLatency, ThreadHealth } from './types.ts';
import { analyzeIntegration } from '../checks/integration.ts';
import { attackRows, memorySummary } from './abuse.ts';
import { stackCost } from './stack-cost.ts';

export const SATURATION = { eventLoopDelayP99Ms: 50, cpuPercent: 90 } as const;

export interface ReportInput {
  scenario: string;
  history: readonly HistoryEvent[];
  final: FinalState;
  checks: readonly CheckResult[];
  thresholds?: readonly ThresholdResult[];
  environment?: Record<string, unknown>;
  options?: Record<string, unknown>;
}

/** 1 when any checker is not valid ("unknown" included), else 99 when a threshold failed, else 0. */
export function exitCodeFor(checks: readonly CheckResult[], thresholds: readonly ThresholdResult[]): 0 | 1 | 99 {
  if (checks.some((c) => c.valid !== true)) return 1;
  if (thresholds.some((t) => !t.passed)) return 99;
  return 0;
}

function num(details: Record<string, unknown> | undefined, key: string): number | undefined {
  const v = details?.[key];
  return typeof v === 'number' ? v : undefined;
}

const saturatedBy = (loop: number, cpu: number) => loop > SATURATION.eventLoopDelayP99Ms || cpu > SATURATION.cpuPercent;

export function generatorHealth(history: readonly HistoryEvent[]): GeneratorHealth {
  let samples = 0;
  let loop = 0;
  let cpu = 0;
  const threads = new Map<string, ThreadHealth>();
  for (const e of history) {
    if (e.type !== 'health') continue;
    samples++;
    loop = Math.max(loop, e.eventLoopDelayP99Ms);
    cpu = Math.max(cpu, e.cpuPercent);
    if (e.thread === undefined) continue;
    const th = threads.get(e.thread) ?? { thread: e.thread, samples: 0, maxEventLoopDelayP99Ms: 0, maxCpuPercent: 0, saturated: false };
    th.samples++;
    th.maxEventLoopDelayP99Ms = Math.max(th.maxEventLoopDelayP99Ms, e.eventLoopDelayP99Ms);
    th.maxCpuPercent = Math.max(th.maxCpuPercent, e.cpuPercent);
    th.saturated = saturatedBy(th.maxEventLoopDelayP99Ms, th.maxCpuPercent);
    threads.set(e.thread, th);
  }
  return { samples, maxEventLoopDelayP99Ms: loop, maxCpuPercent: cpu, saturated: saturatedBy(loop, cpu), threads: [...threads.values()] };
}

/** The generator's own cost from its `generator` event, per delivery and per operation. */
export function generatorCost(history: readonly HistoryEvent[], deliveries: number, ops: number): Partial<GeneratorHealth> {
  const g = history.find((e): e is GeneratorCostEvent => e.type === 'generator');
  if (!g) return {};
  const per = (us: number, n: number) => (n > 0 ? Math.round((us / n) * 10) / 10 : null);
  const busy = g.threads.reduce((a, t) => a + t.busyUs, 0);
  return {
    workers: g.workers,
    readerClient: g.readerClient,
    cpuUsPerDelivery: per(busy, deliveries),
    cpuUsPerOp: per(busy, ops),
    processCpuUsPerDelivery: per(g.processCpuUs, deliveries),
    perWorker: g.threads.map((t) => ({
      thread: t.thread,
      users: t.users,
      busyUs: Math.round(t.busyUs),
      busyPercent: g.windowMs > 0 ? Math.round((t.busyUs / (g.windowMs * 1000)) * 1000) / 10 : 0,
      cpuUsPerDelivery: per(t.busyUs, deliveries),
    })),
  };
}

/** Fault windows from start/end pairs; a fault still active at the end has `end: null`. */
export function faultWindows(history: readonly HistoryEvent[]): FaultWindow[] {
  const open = new Map<string, FaultWindow>();
  const out: FaultWindow[] = [];
  for (const e of history) {
    if (e.type !== 'fault') continue;
    if (e.phase === 'start') {
      const w: FaultWindow = { name: e.name, start: e.t, end: null };
      if (e.detail !== undefined) w.detail = e.detail;
      open.set(e.name, w);
      out.push(w);
    } else {
      const w = open.get(e.name);
      if (w) {
        w.end = e.t;
        // What the fault measured when it ended (restart, catch-up, takeover) belongs with it.
        if (e.detail) w.detail = w.detail ? `${w.detail} -> ${e.detail}` : e.detail;
      }
      else out.push({ name: e.name, start: 0, end: e.t });
      open.delete(e.name);
    }
  }
  return out;
}

const seconds = (from: number, to: number, fallbackMs: number) => {
  const ms = to - from >= 1000 ? to - from : fallbackMs;
  return Math.max(ms, 1) / 1000;
};

export function buildReport(input: ReportInput): Report {
  const { history, final } = input;
  const thresholds = [...(input.thresholds ?? [])];
  const checks = [...input.checks];
  const idx = indexRun(history, final);
  const durationMs = idx.endT - idx.startT;
  const byName = new Map(checks.map((c) => [c.name, c.details]));

  const deliveryDetails = byName.get('delivery');
  const orderDetails = byName.get('version-order');
  const delivery = deliveryDetails ? undefined : analyzeDelivery(history, final);
  const order = orderDetails ? undefined : analyzeVersionOrder(history, final);
  const acked = analyzeAcknowledgedWrites(history, final);
  const latency = analyzeLatency(history, final);

  const writes = [...idx.invokes.values()].filter((i) => isWrite(i.op));
  const firstReceipts = new Set(idx.receives.map((r) => `${r.client}\u0000${r.eventId}`));
  const counts = {
    sent: writes.length,
    committed: idx.changes.size,
    delivered: firstReceipts.size,
    lost: num(deliveryDetails, 'lost') ?? delivery!.lost.length,
    duplicated: num(deliveryDetails, 'duplicated') ?? delivery!.duplicates.length,
    outOfOrder: num(orderDetails, 'outOfOrderReceipts') ?? order!.outOfOrder,
    acked: acked.acked,
    failed: acked.failed,
    rejected: final.rejections.length,
    dropped: history.filter((e) => e.type === 'dropped').length,
    pending: acked.pending,
    typing: [...idx.invokes.values()].filter((i) => i.op === 'typing').length,
  };

  const writeTs = writes.map((w) => w.t);
  const loadSeconds = writeTs.length ? seconds(minOf(writeTs), maxOf(writeTs), durationMs) : durationMs / 1000;
  const rs = idx.receives;
  const deliverySeconds = rs.length ? seconds(rs[0]!.t, rs.at(-1)!.t, durationMs) : durationMs / 1000;
  const r3 = (x: number) => Math.round(x * 1000) / 1000;

  const generator = { ...generatorHealth(history), ...generatorCost(history, counts.delivered, counts.sent + counts.typing) };
  const integration = analyzeIntegration(history);
  const cost = stackCost(history, counts.committed);
  const latencies = Object.fromEntries(STAGES.map((s) => [s, latency.histograms[s].summary()]));
  const floor = floorSummary(history, latencies.e2e);
  const start = idx.start;
  const attacks = attackRows(history);
  const memory = memorySummary(history);
  return {
    scenario: input.scenario,
    passed: exitCodeFor(checks, thresholds) === 0,
    exitCode: exitCodeFor(checks, thresholds),
    checks,
    thresholds,
    counts,
    latency: latencies,
    throughput: {
      opsPerSec: r3(counts.sent / Math.max(loadSeconds, 0.001)),
      deliveriesPerSec: r3(counts.delivered / Math.max(deliverySeconds, 0.001)),
      loadSeconds: r3(loadSeconds),
      deliverySeconds: r3(deliverySeconds),
    },
    generator,
    generatorSaturated: generator.saturated,
    faults: faultWindows(history),
    ...(floor ? { floor } : {}),
    ...(integration ? { integration } : {}),
    ...(attacks ? { attacks } : {}),
    ...(memory ? { memory } : {}),
    ...(cost ? { stackCost: cost } : {}),
    run: {
      seed: start?.seed ?? null,
      startedAt: start ? new Date(start.epochMs).toISOString() : null,
      durationMs: r3(durationMs),
    },
    options: input.options ?? start?.options ?? {},
    environment: input.environment ?? {},
    percentiles: Object.fromEntries(STAGES.map((s) => [s, latency.histograms[s].curve()])),
    timeline: buildTimeline(history, latency.samples.e2e, idx.endT),
  };
}

/** The run's floor and e2e as a multiple of it (the last floor event, should a run hold several). */
export function floorSummary(history: readonly HistoryEvent[], e2e: StageLatency | undefined): FloorSummary | undefined {
  const f = history.findLast((e): e is FloorEvent => e.type === 'floor');
  if (!f) return undefined;
  const ratio = (a: number | undefined, b: number) => (a === undefined || !e2e?.count || b <= 0 ? null : Math.round((a / b) * 100) / 100);
  return { samples: f.samples, p50Ms: f.p50Ms, p90Ms: f.p90Ms, p99Ms: f.p99Ms, maxMs: f.maxMs, e2eP50Ratio: ratio(e2e?.p50, f.p50Ms), e2eP99Ratio: ratio(e2e?.p99, f.p99Ms) };
}
