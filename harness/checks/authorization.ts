/**
 * author-check: only a message's author changes it. A post's row must name its publisher as
 * author; an edit or delete by someone else must be refused (it may be acknowledged by the
 * realtime service, but its effect must never reach the database).
 * Catches a chat-writer that trusts the message instead of the publisher's verified clientId.
 */
import type { FinalState, HistoryEvent } from '../history/types.ts';
import { examples, indexRun } from './model.ts';

export interface AuthorViolation {
  opId: string;
  op: string;
  client: string;
  messageId: string;
  author: string;
  t: number;
  problem: string;
}

export function analyzeAuthorization(history: readonly HistoryEvent[], final: FinalState): { checked: number; violations: AuthorViolation[] } {
  const idx = indexRun(history, final);
  const textsSeen = new Map<string, Set<string>>();
  for (const r of idx.receives) {
    let s = textsSeen.get(r.messageId);
    if (!s) textsSeen.set(r.messageId, (s = new Set()));
    s.add(r.text);
  }
  const authorDeleted = new Set<string>();
  for (const inv of idx.invokes.values()) {
    if (inv.op !== 'delete' || inv.messageId === undefined) continue;
    const row = idx.rows.get(inv.messageId);
    if (row && row.author === inv.client && !idx.rejectionsByMessage.has(inv.opId)) authorDeleted.add(row.id);
  }
  const violations: AuthorViolation[] = [];
  let checked = 0;
  for (const inv of idx.invokes.values()) {
    const id = inv.op === 'post' ? (inv.messageId ?? inv.opId) : inv.messageId;
    const row = id === undefined ? undefined : idx.rows.get(id);
    if (!row || id === undefined) continue;
    const base = { opId: inv.opId, op: inv.op, client: inv.client, messageId: id, author: row.author, t: idx.acks.get(inv.opId)?.t ?? inv.t };
    if (inv.op === 'post') {
      checked++;
      if (row.author !== inv.client) violations.push({ ...base, problem: 'row author is not the publisher' });
      continue;
    }
    if ((inv.op !== 'edit' && inv.op !== 'delete') || row.author === inv.client) continue;
    checked++;
    if (inv.op === 'edit' && inv.text !== undefined && (row.text === inv.text || textsSeen.get(id)?.has(inv.text))) {
      violations.push({ ...base, problem: "another user's edit was applied" });
    }
    if (inv.op === 'delete' && row.deleted && !authorDeleted.has(id)) {
      violations.push({ ...base, problem: "deleted by another user (the author never deleted it)" });
    }
  }
  violations.sort((a, b) => a.t - b.t);
  return { checked, violations };
}

export function authorizationChecker() {
  return (history: readonly HistoryEvent[], final: FinalState) => {
    const a = analyzeAuthorization(history, final);
    const details: Record<string, unknown> = { checked: a.checked, violations: a.violations.length };
    if (!a.violations.length) return { valid: true as const, details };
    details.violationExamples = examples(a.violations);
    return { valid: false as const, details, failedAt: a.violations[0]!.t };
  };
}
