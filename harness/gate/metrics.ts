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
  deliveries_per_sec: { label: 'throughput (deliveries/s)', unit: '/s', worse: 'lower', read: (r: Report) => r.throughput.deliveriesPerSec },
} as const satisfies Record<string, { label: string; unit: string; worse: 'higher' | 'lower'; read: (r: Report) => number | null }>;

export type GateMetric = keyof typeof GATE_METRICS;
export const GATE_METRIC_NAMES = Object.keys(GATE_METRICS) as GateMetric[];

/** One run's figures; a metric without data (e.g. no edits in the run) is left out. */
export function readGateMetrics(r: Report): Partial<Record<GateMetric, number>> {
  const out: Partial<Record<GateMetric, number>> = {};
  for (const name of GATE_METRIC_NAMES) {
    const v = GATE_METRICS[name].read(r);
    if (v !== null && Number.isFinite(v)) out[name] = v;
  }
  return out;
}
