/**
 * Percentiles and thresholds against a straightforward reference: sort the samples, take the
 * nearest rank (the ceil(p/100 * n)-th value, as HDR histograms and k6's p(N) define it), and
 * compare. The histogram keeps 3 significant digits in whole microseconds, so a percentile may sit
 * up to 0.1% + 1 µs below the exact one; count, min, max and avg are exact.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../../../harness/checks/histogram.ts';
import { METRICS, type Metric, type MetricName, type MetricSet } from '../../../harness/checks/metrics.ts';
import { evaluateThresholds, parseExpression, ThresholdError } from '../../../harness/checks/thresholds.ts';

const sample = fc.oneof(
  fc.double({ min: 0, max: 5, noNaN: true }),
  fc.double({ min: 0, max: 100_000, noNaN: true }),
  fc.integer({ min: 0, max: 50 }),
);
const samples = fc.array(sample, { minLength: 1, maxLength: 300 });
const percentile = fc.oneof(fc.constantFrom(0, 50, 90, 99, 99.9, 100), fc.double({ min: 0, max: 100, noNaN: true }));

function nearestRank(sorted: readonly number[], p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length - 1e-9));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

const tolerance = (x: number) => x / 1000 + 0.0011;

function histogramOf(xs: readonly number[]): LatencyHistogram {
  const h = new LatencyHistogram();
  for (const x of xs) h.record(x);
  return h;
}

describe('percentiles (property)', () => {
  it('each percentile is within 0.1% + 1 µs below the nearest-rank value, never above it; extremes are exact', () => {
    fc.assert(
      fc.property(samples, fc.array(percentile, { minLength: 1, maxLength: 8 }), (xs, ps) => {
        const h = histogramOf(xs);
        const sorted = [...xs].sort((a, b) => a - b);
        expect(h.count).toBe(xs.length);
        expect(h.min).toBe(sorted[0]);
        expect(h.max).toBe(sorted.at(-1));
        expect(h.avg).toBeCloseTo(xs.reduce((s, x) => s + x, 0) / xs.length, 6);
        expect(h.percentile(100)).toBe(sorted.at(-1));
        for (const p of ps) {
          const ref = nearestRank(sorted, p);
          const got = h.percentile(p);
          expect(got, `p(${p}) of ${xs.length} samples`).toBeLessThanOrEqual(ref + 0.0005);
          expect(got, `p(${p}) of ${xs.length} samples`).toBeGreaterThanOrEqual(ref - tolerance(ref));
        }
      }),
      { numRuns: 600 },
    );
  });

  it('percentiles never decrease as p grows, and stay within [min, max]', () => {
    fc.assert(
      fc.property(samples, fc.uniqueArray(percentile, { minLength: 2, maxLength: 10 }), (xs, ps) => {
        const h = histogramOf(xs);
        const values = [...ps].sort((a, b) => a - b).map((p) => h.percentile(p));
        for (let i = 1; i < values.length; i++) expect(values[i]).toBeGreaterThanOrEqual(values[i - 1]!);
        for (const v of values) {
          expect(v).toBeGreaterThanOrEqual(h.min);
          expect(v).toBeLessThanOrEqual(h.max);
        }
      }),
      { numRuns: 400 },
    );
  });
});

type Agg = 'p' | 'avg' | 'min' | 'max' | 'med' | 'count' | 'rate' | 'value';
const OPS = ['<', '<=', '>', '>=', '==', '!=', '==='] as const;
const ALLOWED: Record<string, readonly Agg[]> = { trend: ['p', 'avg', 'min', 'max', 'med', 'count'], counter: ['count', 'rate'], rate: ['rate'], gauge: ['value'] };

function compare(v: number, op: string, target: number): boolean {
  switch (op) {
    case '<': return v < target;
    case '<=': return v <= target;
    case '>': return v > target;
    case '>=': return v >= target;
    case '!=': return v !== target;
    default: return v === target;
  }
}

const metricName = fc.constantFrom(...(Object.keys(METRICS) as MetricName[]));
const space = fc.constantFrom('', ' ', '  ');

describe('thresholds (property)', () => {
  it('a threshold passes exactly when the reference value compares true; its value is the reference, to 3 decimals', () => {
    fc.assert(
      fc.property(
        metricName,
        fc.constantFrom<Agg>('p', 'avg', 'min', 'max', 'med', 'count', 'rate', 'value'),
        percentile,
        fc.constantFrom(...OPS),
        fc.oneof(fc.integer({ min: -5, max: 400 }), fc.double({ min: -1, max: 1000, noNaN: true, noDefaultInfinity: true })),
        fc.array(sample, { maxLength: 60 }),
        fc.tuple(space, space, space),
        (metric, agg, p, op, rawTarget, xs, [s1, s2, s3]) => {
          const type = METRICS[metric].type as string;
          const target = Number(rawTarget.toFixed(3));
          const aggText = agg === 'p' ? `p(${Number(p.toFixed(3))})` : agg;
          const expr = `${s1}${aggText}${s2}${op}${s3}${target}`;
          if (!ALLOWED[type]!.includes(agg)) {
            expect(() => parseExpression(metric, expr)).toThrow(ThresholdError);
            expect(() => parseExpression(metric, expr)).toThrow(metric);
            return;
          }
          const t = parseExpression(metric, expr);
          const metrics = metricSet(metric, xs);
          const [result] = evaluateThresholds([t], metrics);
          const ref = referenceValue(metrics[metric], agg, Number(p.toFixed(3)), xs);
          if (ref === null) {
            expect(result).toMatchObject({ value: null, passed: false });
            return;
          }
          const approximate = agg === 'p' || agg === 'med';
          if (approximate) fc.pre(Math.abs(ref - target) > tolerance(Math.abs(ref)) + 0.001);
          const allowed = (approximate ? tolerance(Math.abs(ref)) : 0) + 0.0005 + Math.abs(ref) * 1e-12;
          expect(Math.abs(result!.value! - ref), `${metric} ${expr}: ${result!.value} vs ${ref}`).toBeLessThanOrEqual(allowed);
          expect(result!.passed).toBe(compare(ref, op, target));
        },
      ),
      { numRuns: 3000 },
    );
  });
});

function metricSet(metric: MetricName, xs: readonly number[]): MetricSet {
  const out: Partial<Record<MetricName, Metric>> = {};
  for (const [name, def] of Object.entries(METRICS) as Array<[MetricName, { type: string }]>) {
    const own = name === metric;
    if (def.type === 'trend') out[name] = { type: 'trend', histogram: histogramOf(own ? xs : []) };
    else if (def.type === 'counter') out[name] = { type: 'counter', count: own ? xs.length : 0, rate: own ? xs.length / 7 : 0 };
    else if (def.type === 'rate') out[name] = { type: 'rate', rate: own && xs.length ? xs.filter((x) => x < 1).length / xs.length : 0, passes: 0, total: xs.length };
    else out[name] = { type: 'gauge', value: own ? (xs[0] ?? 0) : 0 };
  }
  return out as MetricSet;
}

function referenceValue(m: Metric, agg: Agg, p: number, xs: readonly number[]): number | null {
  if (m.type === 'counter') return agg === 'rate' ? xs.length / 7 : xs.length;
  if (m.type === 'rate') return m.rate;
  if (m.type === 'gauge') return m.value;
  if (agg === 'count') return xs.length;
  if (xs.length === 0) return null;
  const sorted = [...xs].sort((a, b) => a - b);
  switch (agg) {
    case 'p': return nearestRank(sorted, p);
    case 'med': return nearestRank(sorted, 50);
    case 'avg': return xs.reduce((s, x) => s + x, 0) / xs.length;
    case 'min': return sorted[0]!;
    default: return sorted.at(-1)!;
  }
}
