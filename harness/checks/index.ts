/**
 * The checkers, by name, and `runCheckers`, which runs them so that a checker that throws yields
 * "unknown" (with the error) and never "valid".
 */
import type { CheckResult, Checker, FinalState, HistoryEvent } from '../history/types.ts';
import { acknowledgedWritesChecker } from './acknowledged-writes.ts';
import { authorizationChecker } from './authorization.ts';
import { capabilityChecker } from './capability.ts';
import { commitOrderChecker } from './commit-order.ts';
import { commonOrderChecker } from './common-order.ts';
import { convergenceChecker } from './convergence.ts';
import { deliveryChecker, type DeliveryOptions } from './delivery.ts';
import { finalContentChecker } from './final-content.ts';
import { historyPagesChecker } from './history-pages.ts';
import { latencyChecker } from './latency.ts';
import { perAuthorOrderChecker } from './per-author-order.ts';
import { streamOrderChecker } from './stream-order.ts';
import { versionContentChecker } from './version-content.ts';
import { versionOrderChecker } from './version-order.ts';

export const CHECKER_NAMES = [
  'delivery',
  'version-order',
  'stream-order',
  'common-order',
  'commit-order',
  'convergence',
  'acknowledged-writes',
  'final-content',
  'version-content',
  'history-pages',
  'author-check',
  'capability',
  'per-author-order',
  'latency',
] as const;
export type CheckerName = (typeof CHECKER_NAMES)[number];

export interface CheckerOptions {
  /** Run only these (default: all). */
  only?: readonly CheckerName[];
  delivery?: DeliveryOptions;
  /** per-author-order fails above this fraction of reordered posts (default: report only). */
  maxAuthorReorderRate?: number;
}

export function makeCheckers(opts: CheckerOptions = {}): Record<CheckerName, Checker> {
  return {
    delivery: deliveryChecker(opts.delivery),
    'version-order': versionOrderChecker(),
    'stream-order': streamOrderChecker(),
    'common-order': commonOrderChecker(),
    'commit-order': commitOrderChecker(),
    convergence: convergenceChecker(),
    'acknowledged-writes': acknowledgedWritesChecker(),
    'final-content': finalContentChecker(),
    'version-content': versionContentChecker(),
    'history-pages': historyPagesChecker(),
    'author-check': authorizationChecker(),
    capability: capabilityChecker(),
    'per-author-order': perAuthorOrderChecker({ maxRate: opts.maxAuthorReorderRate }),
    latency: latencyChecker(),
  };
}

export function runChecker(name: string, checker: Checker, history: readonly HistoryEvent[], final: FinalState): CheckResult {
  try {
    const r = checker(history, final);
    // Anything but a proper verdict is not evidence of validity.
    const valid = r.valid === true || r.valid === false ? r.valid : 'unknown';
    return r.failedAt === undefined ? { name, valid, details: r.details } : { name, valid, details: r.details, failedAt: r.failedAt };
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    return { name, valid: 'unknown', details: { error: e.message, stack: e.stack?.split('\n').slice(0, 6).join('\n') } };
  }
}

export function runCheckers(history: readonly HistoryEvent[], final: FinalState, opts: CheckerOptions = {}): CheckResult[] {
  const all = makeCheckers(opts);
  const names = opts.only ?? CHECKER_NAMES;
  for (const n of names) if (!(n in all)) throw new Error(`unknown checker '${n}'; expected one of ${CHECKER_NAMES.join(', ')}`);
  return names.map((n) => runChecker(n, all[n], history, final));
}

export { analyzeDelivery } from './delivery.ts';
export { analyzeVersionOrder } from './version-order.ts';
export { analyzeStreamOrder } from './stream-order.ts';
export { analyzeCommonOrder } from './common-order.ts';
export { analyzeCommitOrder } from './commit-order.ts';
export { analyzeFinalContent } from './final-content.ts';
export { analyzeVersionContent } from './version-content.ts';
export { analyzeHistoryPages } from './history-pages.ts';
export { analyzeConvergence } from './convergence.ts';
export { analyzeAcknowledgedWrites } from './acknowledged-writes.ts';
export { analyzeAuthorization } from './authorization.ts';
export { analyzePerAuthorOrder } from './per-author-order.ts';
export { analyzeLatency, STAGES, type Stage } from './latency-samples.ts';
export { LatencyHistogram, type LatencySummary } from './histogram.ts';
export { computeMetrics, METRICS, type Metric, type MetricName, type MetricSet, type MetricType } from './metrics.ts';
export {
  evaluateThresholds,
  mergeThresholds,
  parseExpression,
  parseThresholdFlag,
  parseThresholds,
  ThresholdError,
  thresholdSpecSchema,
  type Threshold,
  type ThresholdResult,
  type ThresholdSpec,
} from './thresholds.ts';
