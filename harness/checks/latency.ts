/**
 * latency: end-to-end and per-stage latency in HDR histograms. It judges nothing about speed
 * (thresholds do that); it is "unknown" when the history has no end-to-end sample to measure.
 */
import type { FinalState, HistoryEvent } from '../history/types.ts';
import { analyzeLatency, STAGES } from './latency-samples.ts';

export function latencyChecker() {
  return (history: readonly HistoryEvent[], final: FinalState) => {
    const a = analyzeLatency(history, final);
    const stages = Object.fromEntries(STAGES.map((s) => [s, a.histograms[s].summary()]));
    const details: Record<string, unknown> = {
      unit: 'ms',
      stages,
      unattributedReceipts: a.unattributed,
      incompleteEditPropagation: a.incompletePropagation,
    };
    const negatives = Object.fromEntries(STAGES.filter((s) => a.negative[s] > 0).map((s) => [s, a.negative[s]]));
    if (Object.keys(negatives).length) details.negativeSamples = negatives;
    if (a.histograms.e2e.count === 0) {
      details.reason = 'no receipt could be tied to an operation of this run';
      return { valid: 'unknown' as const, details };
    }
    return { valid: true as const, details };
  };
}
