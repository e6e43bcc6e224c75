/**
 * acknowledged-writes: every post, edit or delete the realtime service acknowledged is in the
 * database, or the chat-writer recorded why it refused it (a rejection whose messageId is the
 * operation's id). An acknowledged write that left no trace was silently dropped.
 *
 * - post: its row exists (or was hard-deleted later, as receipts show);
 * - edit: the final row carries its text, or some receipt showed a version with it; failing
 *   that (nobody was attached to see an intermediate version), the row's version count must
 *   leave room for it: a final version N means N-1 updates committed, so if more acknowledged
 *   edits lack a witness than there are unwitnessed versions, some were dropped;
 * - delete: the row is deleted (soft) or gone.
 * Failed operations owe nothing; operations with neither ack nor failure are reported as pending.
 * An edit or delete of a post that was never acknowledged and never reached the database is
 * held by the writer until that post comes (or its hold expires): held, not missing.
 */
import type { FinalState, HistoryEvent, InvokeEvent } from '../history/types.ts';
import { WRITE_PATH_PARTS, unsettledNote, unsettledParts } from './settle.ts';
import { memoized, examples, indexRun, isWrite } from './model.ts';
import { droppedCause, droppedEnvelopes } from './dropped-envelopes.ts';

export interface MissingWrite {
  opId: string;
  op: string;
  client: string;
  messageId?: string;
  ackT: number;
  problem: string;
}

export interface AckedWritesAnalysis {
  acked: number;
  committed: number;
  rejected: number;
  failed: number;
  pending: number;
  /** Committed although the client never saw the ack (lost ack, or still in flight at the end). */
  committedWithoutAck: number;
  rejectionReasons: Record<string, number>;
  missing: MissingWrite[];
  /** Acked edits no receipt showed, for which the row has an unwitnessed version (overwritten unseen). */
  unwitnessed: number;
  /** Acked edits and deletes of a post never acknowledged and absent from the database: still held by the writer. */
  heldForAbsentPost: number;
}

function computeAcknowledgedWrites(history: readonly HistoryEvent[], final: FinalState): AckedWritesAnalysis {
  const idx = indexRun(history, final);
  const out: AckedWritesAnalysis = {
    acked: 0, committed: 0, rejected: 0, failed: 0, pending: 0, committedWithoutAck: 0,
    rejectionReasons: {}, missing: [], unwitnessed: 0, heldForAbsentPost: 0,
  };
  const textsSeen = new Map<string, Set<string>>();
  /** Per row: the text each received version carried. */
  const versionsSeen = new Map<string, Map<number, string>>();
  const hardDeleted = new Set<string>();
  for (const r of idx.receives) {
    if (r.name === 'DELETE') hardDeleted.add(r.messageId);
    else {
      let s = textsSeen.get(r.messageId);
      if (!s) textsSeen.set(r.messageId, (s = new Set()));
      s.add(r.text);
      let v = versionsSeen.get(r.messageId);
      if (!v) versionsSeen.set(r.messageId, (v = new Map()));
      v.set(r.version, r.text);
    }
  }
  const unseenEdits = new Map<string, Omit<MissingWrite, 'problem'>[]>();
  const inDatabase = (inv: InvokeEvent): boolean => {
    const id = inv.op === 'post' ? (inv.messageId ?? inv.opId) : inv.messageId;
    if (id === undefined) return false;
    const row = idx.rows.get(id);
    if (inv.op === 'post') return row !== undefined || hardDeleted.has(id);
    if (inv.op === 'delete') return row === undefined ? hardDeleted.has(id) : row.deleted;
    return inv.text !== undefined && (row?.text === inv.text || (textsSeen.get(id)?.has(inv.text) ?? false));
  };

  for (const inv of idx.invokes.values()) {
    if (!isWrite(inv.op)) continue;
    const ack = idx.acks.get(inv.opId);
    const rejections = idx.rejectionsByMessage.get(inv.opId);
    if (!ack) {
      if (idx.fails.has(inv.opId)) out.failed++;
      else out.pending++;
      if (inDatabase(inv) && !rejections) out.committedWithoutAck++;
      continue;
    }
    out.acked++;
    if (rejections) {
      out.rejected++;
      for (const r of rejections) out.rejectionReasons[r.reason] = (out.rejectionReasons[r.reason] ?? 0) + 1;
      continue;
    }
    if (inDatabase(inv)) {
      out.committed++;
      continue;
    }
    const base = { opId: inv.opId, op: inv.op, client: inv.client, messageId: inv.messageId, ackT: ack.t };
    if (inv.op === 'edit' && inv.messageId !== undefined && idx.rows.has(inv.messageId)) {
      const list = unseenEdits.get(inv.messageId);
      if (list) list.push(base);
      else unseenEdits.set(inv.messageId, [base]);
      continue;
    }
    if (inv.op === 'edit' && inv.messageId !== undefined && hardDeleted.has(inv.messageId)) {
      out.unwitnessed++;
      continue;
    }
    if (inv.op !== 'post' && inv.messageId !== undefined && !idx.rows.has(inv.messageId) && !hardDeleted.has(inv.messageId) && !idx.acks.has(inv.messageId)) {
      out.heldForAbsentPost++;
      continue;
    }
    const problem =
      inv.op === 'post' ? 'no row with this id and no rejection'
      : inv.op === 'edit' ? 'no version ever carried this text and no rejection'
      : 'row not deleted and no rejection';
    out.missing.push({ ...base, problem });
  }
  for (const [id, edits] of unseenEdits) {
    const row = idx.rows.get(id)!;
    // Every applied edit or delete added one version. An edit published before one already
    // applied still adds its version but keeps the newer text (last writer by publish time), so
    // its text is never seen. Room for such edits: versions nobody saw, and versions that kept
    // their predecessor's text (less the one a delete took).
    const texts = new Map(versionsSeen.get(id) ?? []);
    texts.set(row.version, row.text);
    let slots = row.deleted ? -1 : 0;
    for (let v = 2; v <= row.version; v++) {
      const now = texts.get(v);
      const before = texts.get(v - 1);
      if (now === undefined || (before !== undefined && now === before)) slots++;
    }
    if (edits.length <= slots) {
      out.unwitnessed += edits.length;
      continue;
    }
    const problem = `no version ever carried its text and no rejection (${edits.length} such edits, ${Math.max(0, slots)} versions of the row unaccounted for)`;
    for (const e of edits) out.missing.push({ ...e, problem });
  }
  out.missing.sort((a, b) => a.ackT - b.ackT);
  return out;
}


export function analyzeAcknowledgedWrites(history: readonly HistoryEvent[], final: FinalState): AckedWritesAnalysis {
  return memoized(history, final, 'acknowledged-writes', () => computeAcknowledgedWrites(history, final));
}

export function acknowledgedWritesChecker() {
  return (history: readonly HistoryEvent[], final: FinalState) => {
    const a = analyzeAcknowledgedWrites(history, final);
    const details: Record<string, unknown> = {
      acked: a.acked,
      committed: a.committed,
      rejected: a.rejected,
      missing: a.missing.length,
      failed: a.failed,
      pending: a.pending,
      committedWithoutAck: a.committedWithoutAck,
      unwitnessedEdits: a.unwitnessed,
      heldForAbsentPost: a.heldForAbsentPost,
      rejectionReasons: a.rejectionReasons,
    };
    if (a.missing.length) {
      details.missingExamples = examples(a.missing);
      const dropped = droppedEnvelopes(history, new Set(a.missing.map((m) => m.opId)));
      if (dropped.length) {
        details.droppedEnvelopes = dropped;
        details.cause = droppedCause(dropped, a.missing.length);
      }
      const waiting = unsettledParts(history);
      // A write still queued in the integration or the writer is late, not dropped; a connector
      // backlog or a slow client cannot keep an acknowledged write out of the database.
      if (waiting?.some((p) => WRITE_PATH_PARTS.some((w) => p === w || p.startsWith(`${w}:`)))) {
        details.waiting = waiting;
        details.unknownBecause = unsettledNote(waiting);
        return { valid: 'unknown' as const, details };
      }
      return { valid: false as const, details, failedAt: a.missing[0]!.ackT };
    }
    return { valid: true as const, details };
  };
}
