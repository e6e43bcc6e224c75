/**
 * per-author-order: how often an author's posts are ordered in the database other than in the
 * order they were sent. The chat's path (integration rule -> concurrent Lambda invocations) does
 * not promise to commit them in order, so each post row carries the realtime service's publish
 * timestamp (`sent_at`, the chat's display order); a row without it is ordered by commit time.
 * It fails only above a threshold.
 *
 * Per author, the reordered posts are the fewest that must be removed for the rest to be
 * committed in sending order (posts minus the longest run committed in order): sending A, B, C
 * and committing B, C, A reorders one post, not two.
 */
import type { FinalState, HistoryEvent } from '../history/types.ts';
import { memoized, indexRun } from './model.ts';

export interface AuthorOrder { author: string; posts: number; reordered: number }

export interface PerAuthorOrderAnalysis {
  posts: number;
  reordered: number;
  /** reordered / posts; 0 when nothing committed. */
  rate: number;
  authors: AuthorOrder[];
}

/** Length of the longest non-decreasing subsequence, O(n log n). */
export function longestNonDecreasing(xs: readonly number[]): number {
  const tails: number[] = [];
  for (const x of xs) {
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (tails[mid]! <= x) lo = mid + 1;
      else hi = mid;
    }
    tails[lo] = x;
  }
  return tails.length;
}

function computePerAuthorOrder(history: readonly HistoryEvent[], final: FinalState): PerAuthorOrderAnalysis {
  const idx = indexRun(history, final);
  const byAuthor = new Map<string, { sentT: number; createdT: number }[]>();
  for (const inv of idx.invokes.values()) {
    if (inv.op !== 'post') continue;
    const row = idx.rows.get(inv.messageId ?? inv.opId);
    if (!row) continue;
    let list = byAuthor.get(inv.client);
    if (!list) byAuthor.set(inv.client, (list = []));
    list.push({ sentT: inv.t, createdT: row.sentT ?? row.createdT });
  }
  const authors: AuthorOrder[] = [];
  let posts = 0;
  let reordered = 0;
  for (const [author, list] of byAuthor) {
    list.sort((a, b) => a.sentT - b.sentT);
    const n = list.length;
    const r = n - longestNonDecreasing(list.map((p) => p.createdT));
    authors.push({ author, posts: n, reordered: r });
    posts += n;
    reordered += r;
  }
  authors.sort((a, b) => b.reordered - a.reordered || a.author.localeCompare(b.author));
  return { posts, reordered, rate: posts ? reordered / posts : 0, authors };
}

export interface PerAuthorOrderOptions {
  /** Fail when the fraction of reordered posts exceeds this; unset: report only. */
  maxRate?: number;
}


export function analyzePerAuthorOrder(history: readonly HistoryEvent[], final: FinalState): PerAuthorOrderAnalysis {
  return memoized(history, final, 'per-author-order', () => computePerAuthorOrder(history, final));
}

export function perAuthorOrderChecker(opts: PerAuthorOrderOptions = {}) {
  return (history: readonly HistoryEvent[], final: FinalState) => {
    const a = analyzePerAuthorOrder(history, final);
    const details: Record<string, unknown> = {
      posts: a.posts,
      reordered: a.reordered,
      rate: a.rate,
      authorsWithReordering: a.authors.filter((x) => x.reordered > 0).slice(0, 10),
    };
    if (opts.maxRate !== undefined) details.maxRate = opts.maxRate;
    if (opts.maxRate !== undefined && a.rate > opts.maxRate) return { valid: false as const, details };
    return { valid: true as const, details };
  };
}
