/**
 * Small-sample statistics for the gate: medians and the exact Mann-Whitney U test.
 *
 * A gate compares a handful of repeated runs with a handful of stored baseline runs, so the
 * rank test is computed exactly (the distribution of U over all rank assignments) rather than
 * with the normal approximation, which is wrong at these sizes. Ties get mid-ranks and the
 * exact distribution is built over the actual (tied) ranks, so ties are handled exactly too.
 */

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Mid-ranks (1-based) of the pooled values, in input order. */
function midRanks(values: readonly number[]): number[] {
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const ranks = new Array<number>(values.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]![0] === order[i]![0]) j++;
    const r = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]![1]] = r;
    i = j + 1;
  }
  return ranks;
}

export interface RankTest {
  /** U statistic of `b` (count of pairs in which b is larger; ties count one half). */
  u: number;
  /** One-sided exact p-value for "b tends to be larger than a". */
  p: number;
  /** Smallest p-value these sample sizes can produce: the test's resolution. */
  minP: number;
}

/**
 * Exact one-sided Mann-Whitney U test that `b` is stochastically larger than `a`.
 * Enumerates every way to choose |b| of the pooled ranks (fine for the gate's sizes; bounded).
 */
export function mannWhitneyGreater(a: readonly number[], b: readonly number[]): RankTest {
  const n = a.length;
  const m = b.length;
  if (n === 0 || m === 0) return { u: Number.NaN, p: 1, minP: 1 };
  if (n + m > 40) throw new Error(`mannWhitneyGreater: ${n + m} samples is beyond the exact test's bound (40)`);
  const ranks = midRanks([...a, ...b]);
  // Doubled ranks are integers even with ties: count subsets by their doubled rank sum.
  const twice = ranks.map((r) => Math.round(r * 2));
  const observed = twice.slice(n).reduce((s, r) => s + r, 0);
  const maxSum = twice.reduce((s, r) => s + r, 0);
  // ways[k][s]: number of k-subsets of the ranks seen so far whose doubled sum is s.
  let ways: number[][] = Array.from({ length: m + 1 }, () => new Array<number>(maxSum + 1).fill(0));
  ways[0]![0] = 1;
  for (const r of twice) {
    const next = ways.map((row) => [...row]);
    for (let k = 1; k <= m; k++) {
      const from = ways[k - 1]!;
      const to = next[k]!;
      for (let s = r; s <= maxSum; s++) if (from[s - r]) to[s] = to[s]! + from[s - r]!;
    }
    ways = next;
  }
  const dist = ways[m]!;
  let total = 0;
  let atLeast = 0;
  let top = 0;
  let maxReachable = 0;
  for (let s = 0; s <= maxSum; s++) {
    if (!dist[s]) continue;
    total += dist[s]!;
    if (s >= observed) atLeast += dist[s]!;
    if (s >= maxReachable) maxReachable = s;
  }
  top = dist[maxReachable]!;
  const u = observed / 2 - (m * (m + 1)) / 2;
  return { u, p: atLeast / total, minP: top / total };
}
