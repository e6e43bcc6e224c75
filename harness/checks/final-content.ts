/**
 * final-content: each row ends as its author's last word. The final text is that of the author's
 * last acknowledged, unrejected edit in the author's send order (or the post's own text when
 * there was none), and a row whose author had a delete acknowledged is deleted. convergence only
 * compares views with the database and acknowledged-writes only asks that an edit was seen once,
 * so a writer that lets the last edit to *arrive* win leaves rows on an older text unseen by both.
 *
 * Ambiguity is allowed, never guessed: an edit whose publish failed or never answered may still
 * have reached the writer, so its text is accepted too when it came after the last acknowledged
 * one; edits sent within TIE_MS of each other may share one realtime timestamp, which the writer
 * breaks by id rather than by send order, so either text is accepted.
 */
import type { DbRow, FinalState, HistoryEvent, InvokeEvent } from '../history/types.ts';
import { examples, indexRun, memoized } from './model.ts';
import { WRITE_PATH_PARTS, unsettledNote, unsettledParts } from './settle.ts';

/** Send times closer than this may carry the same realtime timestamp (ms resolution, batched acks). */
export const TIE_MS = 5;

export interface WrongContent {
  messageId: string;
  problem: string;
  expected: string[];
  actual: string;
  /** When the write that should have won was acknowledged. */
  t: number;
}

export interface FinalContentAnalysis {
  rows: number;
  /** Rows whose author edited them at least once (the rows where the order of edits matters). */
  editedRows: number;
  wrong: WrongContent[];
}

function compute(history: readonly HistoryEvent[], final: FinalState): FinalContentAnalysis {
  const idx = indexRun(history, final);
  const order = new Map<InvokeEvent, number>();
  const byTarget = new Map<string, InvokeEvent[]>();
  history.forEach((e, i) => {
    if (e.type !== 'invoke' || (e.op !== 'edit' && e.op !== 'delete') || e.messageId === undefined) return;
    order.set(e, i);
    const list = byTarget.get(e.messageId);
    if (list) list.push(e);
    else byTarget.set(e.messageId, [e]);
  });
  const out: FinalContentAnalysis = { rows: 0, editedRows: 0, wrong: [] };
  for (const row of idx.rows.values()) {
    out.rows++;
    const own = (byTarget.get(row.id) ?? [])
      .filter((e) => e.client === row.author && e.room === row.room && !idx.rejectionsByMessage.has(e.opId))
      .sort((a, b) => a.t - b.t || order.get(a)! - order.get(b)!);
    const w = judgeRow(row, own, idx.invokes.get(row.id), (id) => idx.acks.get(id)?.t);
    if (own.some((e) => e.op === 'edit')) out.editedRows++;
    if (w) out.wrong.push(w);
  }
  out.wrong.sort((a, b) => a.t - b.t);
  return out;
}

function judgeRow(row: DbRow, own: InvokeEvent[], post: InvokeEvent | undefined, ackT: (opId: string) => number | undefined): WrongContent | undefined {
  const ackedDelete = own.find((e) => e.op === 'delete' && ackT(e.opId) !== undefined);
  if (ackedDelete && !row.deleted) {
    return { messageId: row.id, problem: 'its author\'s acknowledged delete did not take effect', expected: ['(deleted)'], actual: row.text, t: ackT(ackedDelete.opId)! };
  }
  if (row.deleted) {
    if (own.some((e) => e.op === 'delete')) return undefined;
    return { messageId: row.id, problem: 'deleted although its author never sent a delete', expected: [row.text], actual: '(deleted)', t: row.updatedT };
  }
  const edits = own.filter((e) => e.op === 'edit' && e.text !== undefined);
  let last = -1;
  edits.forEach((e, i) => {
    if (ackT(e.opId) !== undefined) last = i;
  });
  const allowed = new Set<string>();
  if (last >= 0) {
    const winner = edits[last]!;
    for (const e of edits) if (Math.abs(e.t - winner.t) <= TIE_MS) allowed.add(e.text!);
  } else if (post?.text !== undefined) allowed.add(post.text);
  else return undefined;
  for (const e of edits.slice(last + 1)) if (ackT(e.opId) === undefined) allowed.add(e.text!);
  if (allowed.has(row.text)) return undefined;
  const winner = edits[last];
  return {
    messageId: row.id,
    problem: winner ? `ends on another text than its author's last acknowledged edit ${winner.opId}` : 'ends on another text than its post although no edit was acknowledged',
    expected: [...allowed],
    actual: row.text,
    t: winner ? ackT(winner.opId)! : row.updatedT,
  };
}

export function analyzeFinalContent(history: readonly HistoryEvent[], final: FinalState): FinalContentAnalysis {
  return memoized(history, final, 'final-content', () => compute(history, final));
}

export function finalContentChecker() {
  return (history: readonly HistoryEvent[], final: FinalState) => {
    const a = analyzeFinalContent(history, final);
    const details: Record<string, unknown> = { rows: a.rows, editedRows: a.editedRows, wrong: a.wrong.length };
    const first = a.wrong[0];
    if (!first) return { valid: true as const, details };
    details.wrongExamples = examples(a.wrong);
    // A write still queued on the write path may yet bring the row to its author's last word.
    const waiting = unsettledParts(history)?.filter((p) => (WRITE_PATH_PARTS as readonly string[]).includes(p));
    if (waiting?.length) {
      details.unknownBecause = unsettledNote(waiting);
      return { valid: 'unknown' as const, details };
    }
    return { valid: false as const, details, failedAt: first.t };
  };
}
