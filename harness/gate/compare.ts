/**
 * The gate's judgement of one metric: the current runs' median against the baseline's, with a
 * relative tolerance, an absolute floor for latencies (a 0.4 ms move is noise whatever its
 * percentage), and the confidence of an exact rank test on the repeated samples.
 *
 * A metric regresses when its median moved the worse way by more than the tolerance (and the
 * floor) AND the rank test gives at least the required confidence that the current runs are
 * worse. With too few runs the test cannot reach that confidence at all; the gate then decides
 * by the tolerance alone and says so, rather than passing anything.
 */
import { GATE_METRICS, type GateMetric } from './metrics.ts';
import { mannWhitneyGreater, median } from './stats.ts';

export interface CompareOptions {
  /** Allowed relative change of the median in the worse direction, e.g. 0.2 = 20%. */
  tolerance: number;
  /** Required one-sided confidence that the current runs are worse, e.g. 0.9. */
  confidence: number;
  /** Latency changes smaller than this many ms never count as a regression. */
  minChangeMs: number;
}

export interface MetricComparison {
  metric: GateMetric;
  label: string;
  unit: string;
  baseline: number[];
  current: number[];
  baselineMedian: number;
  currentMedian: number;
  /** Relative change of the median, positive = worse. */
  worseBy: number;
  /** One-sided confidence that the current runs are worse (1 - exact Mann-Whitney p). */
  confidence: number;
  /** The best confidence these sample sizes allow. */
  maxConfidence: number;
  /** The rank test could not reach the required confidence with these sample sizes. */
  underpowered: boolean;
  verdict: 'ok' | 'regressed' | 'improved' | 'no-data';
  reason: string;
}

const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;

export function compareMetric(metric: GateMetric, baseline: readonly number[], current: readonly number[], o: CompareOptions): MetricComparison {
  const def = GATE_METRICS[metric];
  const base = { metric, label: def.label, unit: def.unit, baseline: [...baseline], current: [...current] };
  if (baseline.length === 0 || current.length === 0) {
    const which = baseline.length === 0 ? 'the baseline has no samples' : 'the current runs have no samples';
    return { ...base, baselineMedian: NaN, currentMedian: NaN, worseBy: 0, confidence: 0, maxConfidence: 0, underpowered: true, verdict: 'no-data', reason: which };
  }
  const bm = median(baseline);
  const cm = median(current);
  const sign = def.worse === 'higher' ? 1 : -1;
  // Worse-is-positive relative change; a zero baseline can only get worse by an absolute amount.
  const worseBy = bm === 0 ? (cm === 0 ? 0 : sign * Infinity * Math.sign(cm)) : (sign * (cm - bm)) / Math.abs(bm);
  const test = def.worse === 'higher' ? mannWhitneyGreater(baseline, current) : mannWhitneyGreater(current, baseline);
  const confidence = 1 - test.p;
  const maxConfidence = 1 - test.minP;
  const underpowered = maxConfidence + 1e-12 < o.confidence;
  const beyondTolerance = worseBy > o.tolerance && (def.unit !== 'ms' || Math.abs(cm - bm) >= o.minChangeMs);
  const confident = underpowered || confidence + 1e-12 >= o.confidence;
  const fmt = (x: number) => `${x.toFixed(def.unit === 'ms' ? 2 : 1)} ${def.unit}`;
  const movement = `median ${fmt(bm)} -> ${fmt(cm)} (${(Math.abs(worseBy) * 100).toFixed(1)}% ${worseBy >= 0 ? 'worse' : 'better'})`;
  let verdict: MetricComparison['verdict'];
  let reason: string;
  if (beyondTolerance && confident) {
    verdict = 'regressed';
    reason = `${def.label} regressed: ${movement}, beyond the ${pct(o.tolerance)} tolerance; confidence ${(confidence * 100).toFixed(1)}%` +
      (underpowered ? ` (too few runs for ${(o.confidence * 100).toFixed(0)}%: decided by the tolerance alone)` : '');
  } else if (beyondTolerance) {
    verdict = 'ok';
    reason = `${movement}, but only ${(confidence * 100).toFixed(1)}% confident (need ${(o.confidence * 100).toFixed(0)}%): noise`;
  } else {
    verdict = worseBy < -o.tolerance ? 'improved' : 'ok';
    reason = `${movement}, within the ${pct(o.tolerance)} tolerance` + (def.unit === 'ms' && worseBy > o.tolerance ? ` and the ${o.minChangeMs} ms floor` : '');
  }
  return { ...base, baselineMedian: bm, currentMedian: cm, worseBy, confidence, maxConfidence, underpowered, verdict, reason };
}
