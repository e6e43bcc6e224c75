/**
 * history-pages: every read of the history endpoint gives the room as the endpoint promises it.
 * A read (a join, a catch-up) is judged on its own, from its recorded pages:
 * - order: each page is newest first, by (created_at, id) descending, and each page starts below
 *   where the page before it ended (pages in order, none overlapping another);
 * - no gap: every row the read was owed appears in it. A row is owed when some client received
 *   its INSERT before the read's first request was sent (so it had committed), no delete of it was
 *   ever attempted, the database still has it, and it lies within the range the read covered (all
 *   of the room when the last page said there is no older one; else down to that page's last row).
 *
 * Live events cannot stand in for a missing row here: the read is judged alone, so a first page
 * that lacks the room's newest row fails even when the joiner got that row live.
 */
import type { FinalState, HistoryEvent, HistoryPageEvent, HistoryPageRow } from '../history/types.ts';
import { examples, memoized } from './model.ts';

export interface PageProblem {
  kind: 'order' | 'overlap' | 'gap';
  client: string;
  room: string;
  read: string;
  page: number;
  messageId: string;
  detail: string;
  t: number;
}

export interface HistoryPagesAnalysis {
  reads: number;
  pages: number;
  /** Owed rows looked for, over all reads. */
  owed: number;
  problems: PageProblem[];
}

/** (created_at, id) descending is the endpoint's order: negative when a is newer, i.e. comes first. */
function newestFirst(a: HistoryPageRow, b: HistoryPageRow): number {
  if (a.createdT !== b.createdT) return b.createdT - a.createdT;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

function readsOf(history: readonly HistoryEvent[]): Map<string, HistoryPageEvent[]> {
  const reads = new Map<string, HistoryPageEvent[]>();
  for (const e of history) {
    if (e.type !== 'history-page') continue;
    const list = reads.get(e.read);
    if (list) list.push(e);
    else reads.set(e.read, [e]);
  }
  for (const pages of reads.values()) pages.sort((a, b) => a.page - b.page);
  return reads;
}

/** Per room, rows whose INSERT someone received, with the earliest receipt. */
function firstInsertSeen(history: readonly HistoryEvent[]): Map<string, number> {
  const seen = new Map<string, number>();
  for (const e of history) {
    if (e.type !== 'receive' || e.name !== 'INSERT') continue;
    const prior = seen.get(e.messageId);
    if (prior === undefined || e.t < prior) seen.set(e.messageId, e.t);
  }
  return seen;
}

function judgeOrder(pages: readonly HistoryPageEvent[], out: PageProblem[]): void {
  const ids = new Map<string, number>();
  let previous: HistoryPageRow | undefined;
  for (const p of pages) {
    p.rows.forEach((row, i) => {
      const at = { client: p.client, room: p.room, read: p.read, page: p.page, messageId: row.id, t: p.t };
      const where = ids.get(row.id);
      if (where !== undefined) out.push({ kind: 'overlap', ...at, detail: `also on page ${where}` });
      else ids.set(row.id, p.page);
      if (previous && newestFirst(previous, row) >= 0 && where === undefined) {
        const boundary = i === 0 ? `first row of page ${p.page}, not older than the last row of the page before` : `row ${i} of page ${p.page}, not older than the row before it`;
        out.push({ kind: 'order', ...at, detail: `${boundary} (${previous.id})` });
      }
      previous = row;
    });
  }
}

function judgeGaps(pages: readonly HistoryPageEvent[], final: FinalState, inserted: Map<string, number>, neverDeleted: (id: string) => boolean, out: PageProblem[]): number {
  const first = pages[0]!;
  const last = pages[pages.length - 1]!;
  const got = new Set(pages.flatMap((p) => p.rows.map((r) => r.id)));
  // A read cut short covers only down to its last row; a read that reached the end covers all.
  const floor = last.more ? last.rows[last.rows.length - 1] : undefined;
  if (last.more && !floor) return 0;
  let owed = 0;
  for (const row of final.rows) {
    if (row.room !== first.room || row.deleted || !neverDeleted(row.id)) continue;
    const seenAt = inserted.get(row.id);
    if (seenAt === undefined || seenAt >= first.sentT) continue;
    if (floor && newestFirst(row, floor) > 0) continue;
    owed++;
    if (!got.has(row.id)) {
      out.push({ kind: 'gap', client: first.client, room: first.room, read: first.read, page: 0, messageId: row.id, detail: `committed (received at ${seenAt.toFixed(1)} ms) before the read began at ${first.sentT.toFixed(1)} ms, never deleted, missing from every page`, t: last.t });
    }
  }
  return owed;
}

function compute(history: readonly HistoryEvent[], final: FinalState): HistoryPagesAnalysis {
  const reads = readsOf(history);
  const inserted = firstInsertSeen(history);
  const deleteTried = new Set<string>();
  for (const e of history) if (e.type === 'invoke' && e.op === 'delete' && e.messageId) deleteTried.add(e.messageId);
  const out: HistoryPagesAnalysis = { reads: reads.size, pages: 0, owed: 0, problems: [] };
  for (const pages of reads.values()) {
    out.pages += pages.length;
    judgeOrder(pages, out.problems);
    out.owed += judgeGaps(pages, final, inserted, (id) => !deleteTried.has(id), out.problems);
  }
  out.problems.sort((a, b) => a.t - b.t);
  return out;
}

export function analyzeHistoryPages(history: readonly HistoryEvent[], final: FinalState): HistoryPagesAnalysis {
  return memoized(history, final, 'history-pages', () => compute(history, final));
}

export function historyPagesChecker() {
  return (history: readonly HistoryEvent[], final: FinalState) => {
    const a = analyzeHistoryPages(history, final);
    const count = (k: PageProblem['kind']) => a.problems.filter((p) => p.kind === k).length;
    const details: Record<string, unknown> = { reads: a.reads, pages: a.pages, owedRows: a.owed, gaps: count('gap'), overlaps: count('overlap'), misordered: count('order') };
    const first = a.problems[0];
    if (!first) return { valid: true as const, details };
    details.problemExamples = examples(a.problems);
    return { valid: false as const, details, failedAt: first.t };
  };
}
