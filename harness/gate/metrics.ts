/** The figures the gate tracks per run, and which direction is worse for each. */
import type { Report } from '../report/types.ts';

export const GATE_METRICS = {
  e2e_p50: { label: 'end-to-end latency p50', unit: 'ms', worse: 'higher', read: (r: Report) => r.latency.e2e?.count ? r.latency.e2e.p50 : null },
  e2e_p99: { label: 'end-to-end latency p99', unit: 'ms', worse: 'higher', read: (r: Report) => r.latency.e2e?.count ? r.latency.e2e.p99 : null },
  edit_propagation_p99: {
    label: 'edit propagation p99',
    unit: 'ms',
    worse: 'higher',
    read: (r: Report) => (r.latency.editPropagation?.count ? r.latency.editPropagation.p99 : null),
  },
  // The stack's own overhead on whatever machine: e2e p50 over the database's floor from the same run.
  // Recorded and shown, not judged: a sub-millisecond floor moves 2x with the machine's load alone.
  e2e_floor_ratio: { label: 'e2e p50 / floor p50', unit: 'x', worse: 'higher', judged: false, read: (r: Report) => r.floor?.e2eP50Ratio ?? null },
  deliveries_per_sec: { label: 'throughput (deliveries/s)', unit: '/s', worse: 'lower', read: (r: Report) => r.throughput.deliveriesPerSec },
} as const satisfies Record<string, { label: string; unit: string; worse: 'higher' | 'lower'; judged?: false; read: (r: Report) => number | null }>;

export type GateMetric = keyof typeof GATE_METRICS;
export const GATE_METRIC_NAMES = Object.keys(GATE_METRICS) as GateMetric[];
/** The metrics a regression fails the gate on. */
export const JUDGED_METRICS = GATE_METRIC_NAMES.filter((m) => !('judged' in GATE_METRICS[m]));

/** One run's figures; a metric without data (e.g. no edits in the run) is left out. */
export function readGateMetrics(r: Report): Partial<Record<GateMetric, number>> {
  const out: Partial<Record<GateMetric, number>> = {};
  for (const name of GATE_METRIC_NAMES) {
    const v = GATE_METRICS[name].read(r);
    if (v !== null && Number.isFinite(v)) out[name] = v;
  }
  return out;
}
