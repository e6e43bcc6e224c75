/**
 * commit-order: on each room's channel, a subscriber receives changes in the order the database
 * committed them, across rows. stream-order only compares versions of one row and common-order
 * only compares subscribers with each other, so a connector that swaps two changes of different
 * rows for everyone passes both. The order is read from the commit position the connector puts in
 * each change (`receive.position`), on both of its paths (outbox reads and notifications); receipts
 * without one (the original connector's NOTIFY-only mode, or an older connector) are not judged. A change received a
 * second time (same event id, or the same row version again) is delivery's concern, not an
 * inversion.
 */
import type { FinalState, HistoryEvent } from '../history/types.ts';
import { changeKeyOf, examples, indexRun, memoized } from './model.ts';

export interface Inversion {
  client: string;
  room: string;
  /** The change that arrived late... */
  messageId: string;
  version: number;
  position: number[];
  /** ...after this one, committed later. */
  after: { messageId: string; version: number; position: number[] };
  t: number;
}

export interface CommitOrderAnalysis {
  /** Receipts that carried a position. */
  judged: number;
  /** Receipts without one (an older connector): not judged. */
  unpositioned: number;
  inversions: Inversion[];
}

export function comparePositions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? -Infinity) - (b[i] ?? -Infinity);
    if (d !== 0) return d;
  }
  return 0;
}

function compute(history: readonly HistoryEvent[], final: FinalState): CommitOrderAnalysis {
  const idx = indexRun(history, final);
  const out: CommitOrderAnalysis = { judged: 0, unpositioned: 0, inversions: [] };
  for (const rs of idx.receivesBySub.values()) {
    const seen = new Set<string>();
    let top: { messageId: string; version: number; position: number[] } | undefined;
    for (const r of rs) {
      const key = changeKeyOf(r);
      if (seen.has(r.eventId) || seen.has(key)) continue;
      seen.add(r.eventId).add(key);
      if (!r.position) {
        out.unpositioned++;
        continue;
      }
      out.judged++;
      if (top && comparePositions(r.position, top.position) < 0) {
        out.inversions.push({ client: r.client, room: r.room, messageId: r.messageId, version: r.version, position: r.position, after: top, t: r.t });
      } else top = { messageId: r.messageId, version: r.version, position: r.position };
    }
  }
  out.inversions.sort((a, b) => a.t - b.t);
  return out;
}

export function analyzeCommitOrder(history: readonly HistoryEvent[], final: FinalState): CommitOrderAnalysis {
  return memoized(history, final, 'commit-order', () => compute(history, final));
}

export function commitOrderChecker() {
  return (history: readonly HistoryEvent[], final: FinalState) => {
    const a = analyzeCommitOrder(history, final);
    const details: Record<string, unknown> = {
      judged: a.judged,
      unpositioned: a.unpositioned,
      inversions: a.inversions.length,
      rowsAffected: new Set(a.inversions.map((i) => i.messageId)).size,
    };
    const first = a.inversions[0];
    if (!first) return { valid: true as const, details };
    details.inversionExamples = examples(a.inversions);
    return { valid: false as const, details, failedAt: first.t };
  };
}
