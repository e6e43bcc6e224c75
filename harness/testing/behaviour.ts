/**
 * What a whole-stack test may assert about a run: its checks and the thresholds on behaviour
 * (losses, duplicates, missing writes). Latency and generator thresholds depend on how busy the
 * machine is (other tests run beside this one), so tests assert only that latency was measured.
 */
import type { CheckResult } from '../history/types.ts';
import type { ThresholdResult } from '../checks/thresholds.ts';
import { METRICS } from '../checks/metrics.ts';

/** Counted against the clock, not against correctness: how many operations started late. */
const MACHINE_BOUND = new Set<string>(['dropped', 'generator_event_loop_p99', 'generator_cpu']);

export function isBehaviourThreshold(metric: string): boolean {
  const m = (METRICS as Record<string, { type: string }>)[metric];
  return m !== undefined && m.type !== 'trend' && !MACHINE_BOUND.has(metric);
}

/** Checks not valid, and behaviour thresholds that failed; both empty for a correct run. */
export function behaviourFailures(report: { checks: readonly CheckResult[]; thresholds: readonly ThresholdResult[] }) {
  return {
    checks: report.checks.filter((c) => c.valid !== true).map((c) => ({ name: c.name, valid: c.valid, details: c.details })),
    thresholds: report.thresholds.filter((t) => !t.passed && isBehaviourThreshold(t.metric)),
  };
}
