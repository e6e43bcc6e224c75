import { describe, expect, it } from 'vitest';
import { currentMachine, machineDifferences } from './baseline.ts';
import { compareMetric } from './compare.ts';
import { mannWhitneyGreater, median } from './stats.ts';

describe('exact Mann-Whitney U', () => {
  // Expected p-values from a brute-force permutation test over mid-ranks (scipy's rankdata).
  it('gives the exact one-sided p-value, ties included', () => {
    expect(mannWhitneyGreater([1, 2, 3], [4, 5, 6]).p).toBeCloseTo(0.05, 12);
    expect(mannWhitneyGreater([1, 2, 3], [4, 5, 6]).minP).toBeCloseTo(0.05, 12);
    expect(mannWhitneyGreater([10, 12, 11, 13], [12, 14, 15]).p).toBeCloseTo(3 / 35, 12);
    expect(mannWhitneyGreater([5, 3, 8, 1, 9], [7, 7, 10]).p).toBeCloseTo(0.19642857142857142, 12);
    expect(mannWhitneyGreater([1, 1], [1, 1]).p).toBe(1);
    expect(mannWhitneyGreater([4, 5, 6], [1, 2, 3]).p).toBe(1);
    expect(mannWhitneyGreater([4, 5, 6], [1, 2, 3]).u).toBe(0);
  });

  it('knows the resolution of small samples', () => {
    expect(mannWhitneyGreater([1, 2, 3, 4], [5, 6]).minP).toBeCloseTo(1 / 15, 12);
    expect(mannWhitneyGreater([1, 2, 3, 4, 5], [6, 7]).minP).toBeCloseTo(1 / 21, 12);
    expect(() => mannWhitneyGreater(Array(30).fill(1), Array(11).fill(2))).toThrow(/bound/);
  });

  it('median of odd and even counts', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });
});

describe('compareMetric', () => {
  const opts = { tolerance: 0.2, confidence: 0.9, minChangeMs: 1 };

  it('flags a latency regression beyond tolerance with the confidence of the rank test', () => {
    const c = compareMetric('e2e_p50', [10, 11, 10.5, 10.2], [40, 41], opts);
    expect(c.verdict).toBe('regressed');
    expect(c.worseBy).toBeGreaterThan(2.5);
    expect(c.confidence).toBeCloseTo(1 - 1 / 15, 9);
    expect(c.reason).toMatch(/end-to-end latency p50 regressed: median 10\.35 ms -> 40\.50 ms \(291\.3% worse\).*confidence 93\.3%/);
  });

  it('passes noise inside the tolerance, and changes under the absolute floor', () => {
    expect(compareMetric('e2e_p99', [20, 22, 21, 19], [22, 23], opts).verdict).toBe('ok');
    const tiny = compareMetric('e2e_p50', [1, 1.1, 1, 1.05], [1.8, 1.9], opts);
    expect(tiny.worseBy).toBeGreaterThan(0.2);
    expect(tiny.verdict).toBe('ok');
    expect(tiny.reason).toMatch(/1 ms floor/);
  });

  it('does not call a shift a regression when the runs overlap too much to be confident', () => {
    const c = compareMetric('e2e_p99', [10, 11, 12, 30], [11.9, 31], opts);
    expect(c.worseBy).toBeGreaterThan(0.2);
    expect(c.verdict).toBe('ok');
    expect(c.reason).toMatch(/only .*% confident/);
  });

  it('decides by tolerance alone when too few runs exist for the required confidence, and says so', () => {
    const c = compareMetric('e2e_p50', [10], [20], opts);
    expect(c.underpowered).toBe(true);
    expect(c.verdict).toBe('regressed');
    expect(c.reason).toMatch(/too few runs/);
  });

  it('treats lower throughput as worse, higher as improved', () => {
    expect(compareMetric('deliveries_per_sec', [100, 101, 99, 100], [50, 52], opts).verdict).toBe('regressed');
    expect(compareMetric('deliveries_per_sec', [100, 101, 99, 100], [150, 152], opts).verdict).toBe('improved');
  });

  it('reports missing data without failing', () => {
    expect(compareMetric('edit_propagation_p99', [], [3], opts).verdict).toBe('no-data');
  });
});

describe('baseline machines', () => {
  const here = { cpuModel: 'AMD EPYC', cpus: 2, node: '20.20.2', platform: 'linux 6.18.44', arch: 'x64', memoryGiB: 23.5 };

  it('ignores kernel patch levels, memory size and node minor versions', () => {
    expect(machineDifferences(here, { ...here, platform: 'linux 6.19.1', memoryGiB: 8, node: '20.21.0' })).toEqual([]);
  });

  it('names what makes timings incomparable: CPU model, core count, node major, architecture', () => {
    expect(machineDifferences(here, { ...here, cpuModel: 'Intel Xeon', cpus: 4, node: '22.1.0', arch: 'arm64' })).toEqual([
      "cpu 'AMD EPYC' vs 'Intel Xeon'",
      '2 vs 4 cores',
      'node 20.20.2 vs 22.1.0',
      'x64 vs arm64',
    ]);
  });

  it('describes this machine as a baseline records it', () => {
    const m = currentMachine();
    expect(m.cpus).toBeGreaterThan(0);
    expect(m.node).toBe(process.versions.node);
    expect(machineDifferences(m, currentMachine())).toEqual([]);
  });
});
