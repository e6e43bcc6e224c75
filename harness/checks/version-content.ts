/**
 * version-content: a row's version names one content. Every receipt, every history page read,
 * every client's final view and the final database row that show version v of a row must agree on its text and on whether
 * it is deleted. Each change bumps the version, so two contents under one version mean a write
 * changed the row without counting it: a redelivered post that puts back the original text, say,
 * which version-checking views then ignore or apply depending on who saw what first.
 * Hard DELETE events carry the last row and are skipped; a tombstone's text is not compared.
 */
import type { FinalState, HistoryEvent } from '../history/types.ts';
import { examples, indexRun, memoized } from './model.ts';

interface Content {
  text: string;
  deleted: boolean;
  /** Where it was first seen, for details. */
  where: string;
  t: number;
}

export interface Conflict {
  messageId: string;
  version: number;
  first: Content;
  second: Content;
}

export interface VersionContentAnalysis {
  versions: number;
  conflicts: Conflict[];
}

function compute(history: readonly HistoryEvent[], final: FinalState): VersionContentAnalysis {
  const idx = indexRun(history, final);
  const seen = new Map<string, Content>();
  const conflicts: Conflict[] = [];
  const reported = new Set<string>();
  const see = (messageId: string, version: number, c: Content) => {
    const key = `${messageId}\u0000${version}`;
    const prior = seen.get(key);
    if (!prior) return void seen.set(key, c);
    const same = prior.deleted === c.deleted && (c.deleted || prior.text === c.text);
    if (same || reported.has(key)) return;
    reported.add(key);
    conflicts.push({ messageId, version, first: prior, second: c });
  };
  for (const r of idx.receives) {
    if (r.name !== 'DELETE') see(r.messageId, r.version, { text: r.text, deleted: r.deleted, where: `receipt by ${r.client}`, t: r.t });
  }
  for (const v of idx.views) {
    for (const row of v.rows) see(row.id, row.version, { text: row.text, deleted: row.deleted, where: `view of ${v.client}`, t: v.t });
  }
  for (const e of history) {
    if (e.type !== 'history-page') continue;
    for (const row of e.rows) see(row.id, row.version, { text: row.text, deleted: row.deleted, where: `history page read by ${e.client}`, t: e.t });
  }
  for (const row of final.rows) see(row.id, row.version, { text: row.text, deleted: row.deleted, where: 'database', t: idx.endT });
  conflicts.sort((a, b) => a.second.t - b.second.t);
  return { versions: seen.size, conflicts };
}

export function analyzeVersionContent(history: readonly HistoryEvent[], final: FinalState): VersionContentAnalysis {
  return memoized(history, final, 'version-content', () => compute(history, final));
}

export function versionContentChecker() {
  return (history: readonly HistoryEvent[], final: FinalState) => {
    const a = analyzeVersionContent(history, final);
    const details: Record<string, unknown> = { versions: a.versions, conflicts: a.conflicts.length };
    const first = a.conflicts[0];
    if (!first) return { valid: true as const, details };
    details.conflictExamples = examples(a.conflicts);
    return { valid: false as const, details, failedAt: first.second.t };
  };
}
