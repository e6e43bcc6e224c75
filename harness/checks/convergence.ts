/**
 * convergence: after the quiet period each client's view of a room equals the database rows of
 * that room.
 *
 * Deleted rows: a client that joined after a message was deleted loads history without it (the
 * history function serves live rows), while a client that was there keeps a tombstone. So a row
 * deleted in the database may be absent from a view, or present with `deleted: true` and the
 * database's version; a tombstone's text is not compared. A live row must be present with the
 * same text, version and author. A view row the database does not have is a divergence, unless
 * it is a tombstone of a row that was hard-deleted.
 * Only views taken while the client was still attached are judged; a client whose subscription
 * is open at the end but left no view makes the result "unknown".
 */
import type { DbRow, FinalState, HistoryEvent, ViewRow } from '../history/types.ts';
import { examples, indexRun, minOf } from './model.ts';
import { unsettledNote, unsettledParts } from './settle.ts';

export interface Divergence {
  client: string;
  room: string;
  messageId: string;
  t: number;
  problem: string;
  /** The view only lags the database (missing row, older version, delete not seen): a late delivery would fix it. */
  behind: boolean;
}

export interface ConvergenceAnalysis {
  viewsCompared: number;
  viewsIgnored: number;
  missingViews: { client: string; room: string }[];
  divergences: Divergence[];
}

function isBehind(db: DbRow | undefined, view: ViewRow | undefined): boolean {
  if (!db) return false;
  if (!view) return true;
  return view.version < db.version;
}

function compareRow(db: DbRow | undefined, view: ViewRow | undefined): string | undefined {
  if (!db) return view && !view.deleted ? 'in the view, not in the database' : undefined;
  if (!view) return db.deleted ? undefined : `missing from the view (database v${db.version})`;
  if (db.deleted !== view.deleted) return `deleted ${view.deleted} in the view, ${db.deleted} in the database`;
  if (db.version !== view.version) return `version ${view.version} in the view, ${db.version} in the database`;
  if (db.deleted) return undefined;
  if (db.text !== view.text) return `text ${JSON.stringify(view.text)} in the view, ${JSON.stringify(db.text)} in the database`;
  if (db.author !== view.author) return `author ${view.author} in the view, ${db.author} in the database`;
  return undefined;
}

export function analyzeConvergence(history: readonly HistoryEvent[], final: FinalState): ConvergenceAnalysis {
  const idx = indexRun(history, final);
  const dbByRoom = new Map<string, Map<string, DbRow>>();
  for (const r of final.rows) {
    let m = dbByRoom.get(r.room);
    if (!m) dbByRoom.set(r.room, (m = new Map()));
    m.set(r.id, r);
  }
  const out: ConvergenceAnalysis = { viewsCompared: 0, viewsIgnored: 0, missingViews: [], divergences: [] };
  const judged = new Set<string>();
  // The last view per client and room is the final one.
  const lastView = new Map<string, (typeof idx.views)[number]>();
  for (const v of idx.views) lastView.set(`${v.client}\u0000${v.room}`, v);
  for (const [key, v] of lastView) {
    const sub = idx.subscribers.get(key);
    const attached = sub?.intervals.some((iv) => iv.start <= v.t && v.t <= iv.end);
    if (!attached) {
      out.viewsIgnored++;
      continue;
    }
    judged.add(key);
    out.viewsCompared++;
    const db = dbByRoom.get(v.room) ?? new Map<string, DbRow>();
    const seen = new Map<string, ViewRow>();
    for (const row of v.rows) {
      if (seen.has(row.id)) out.divergences.push({ client: v.client, room: v.room, messageId: row.id, t: v.t, problem: 'listed twice in the view', behind: false });
      seen.set(row.id, row);
    }
    for (const id of new Set([...db.keys(), ...seen.keys()])) {
      const problem = compareRow(db.get(id), seen.get(id));
      if (problem) out.divergences.push({ client: v.client, room: v.room, messageId: id, t: v.t, problem, behind: isBehind(db.get(id), seen.get(id)) });
    }
  }
  for (const sub of idx.subscribers.values()) {
    if (sub.intervals.at(-1)?.open && !judged.has(sub.key)) out.missingViews.push({ client: sub.client, room: sub.room });
  }
  return out;
}

export function convergenceChecker() {
  return (history: readonly HistoryEvent[], final: FinalState) => {
    const a = analyzeConvergence(history, final);
    const details: Record<string, unknown> = {
      viewsCompared: a.viewsCompared,
      viewsIgnored: a.viewsIgnored,
      divergences: a.divergences.length,
      missingViews: a.missingViews.length,
      deletedRows: 'a deleted row may be absent from a view or a tombstone with the database version',
    };
    if (a.divergences.length) {
      details.divergenceExamples = examples(a.divergences);
      const waiting = unsettledParts(history);
      if (waiting && a.divergences.every((d) => d.behind)) {
        details.waiting = waiting;
        details.unknownBecause = unsettledNote(waiting);
        return { valid: 'unknown' as const, details };
      }
      return { valid: false as const, details, failedAt: minOf(a.divergences.map((d) => d.t)) };
    }
    if (a.missingViews.length || a.viewsCompared === 0) {
      details.missingViewExamples = examples(a.missingViews);
      return { valid: 'unknown' as const, details };
    }
    return { valid: true as const, details };
  };
}
