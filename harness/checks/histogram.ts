/**
 * Latency histograms. HDR histograms record integers, so milliseconds are recorded as whole
 * microseconds (3 significant digits: every percentile within 0.1% of the true value); count,
 * sum, min and max are kept exactly beside it.
 * A percentile is reported as the lowest value of its bucket's equivalence range (or the exact
 * min/max when the bucket holds it) rather than HDR's default highest, so that recording exactly
 * 3 ms reports 3 ms, not 3.001 ms: `p(50)<=3` must not fail on a run whose samples were all 3 ms.
 */
import { Int32Histogram } from 'hdr-histogram-js';

export interface LatencySummary {
  count: number;
  min: number;
  avg: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

export class LatencyHistogram {
  private readonly h = LatencyHistogram.create();

  private static create(): Int32Histogram {
    const h = new Int32Histogram(1, 2, 3);
    h.autoResize = true;
    return h;
  }
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;

  record(ms: number): void {
    const v = Math.max(0, ms);
    this.h.recordValue(Math.round(v * 1000));
    this.count++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  /** Value (ms) at percentile p in [0, 100]; NaN when empty. */
  percentile(p: number): number {
    if (this.count === 0) return NaN;
    if (p >= 100) return this.max;
    const v = this.h.getValueAtPercentile(p);
    const lo = this.h.lowestEquivalentValue(v);
    const hi = this.h.highestEquivalentValue(v);
    // When the bucket holds the exact extreme, that is the best answer there is.
    const inBucket = (ms: number) => Math.round(ms * 1000) >= lo && Math.round(ms * 1000) <= hi;
    if (inBucket(this.max)) return this.max;
    if (inBucket(this.min)) return this.min;
    return lo / 1000;
  }

  get avg(): number {
    return this.count ? this.sum / this.count : NaN;
  }

  summary(): LatencySummary {
    if (this.count === 0) return { count: 0, min: 0, avg: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 };
    return {
      count: this.count,
      min: round3(this.min),
      avg: round3(this.avg),
      p50: round3(this.percentile(50)),
      p90: round3(this.percentile(90)),
      p99: round3(this.percentile(99)),
      p999: round3(this.percentile(99.9)),
      max: round3(this.max),
    };
  }

  /** Percentile curve for an HDR plot: [percentile, ms] at log-spaced percentiles. */
  curve(): [number, number][] {
    if (this.count === 0) return [];
    const points: [number, number][] = [];
    for (const p of [0, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 99.999]) {
      points.push([p, round3(p === 0 ? this.min : this.percentile(p))]);
    }
    points.push([100, round3(this.max)]);
    return points;
  }

  /** Frees the histogram's backing store (only needed for the WebAssembly flavour; harmless). */
  destroy(): void {
    this.h.destroy();
  }
}
