/**
 * stream-order: each subscriber receives a message's versions in the order they were committed.
 * The connector's contract is to publish in commit order, and the realtime service delivers a
 * channel in publish order, so a version arriving after a newer one means the connector let a
 * later change overtake an earlier one (the original connector's fire-and-forget REST publishes).
 * Version-checking clients hide this from their views (version-order stays valid); this checker
 * is what tells the two apart. Duplicates (the same event id again) are delivery's concern.
 */
import type { FinalState, HistoryEvent } from '../history/types.ts';
import { examples, indexRun } from './model.ts';

export interface Overtake {
  client: string;
  room: string;
  messageId: string;
  /** The version that arrived late... */
  version: number;
  /** ...after this newer one. */
  after: number;
  t: number;
}

// A hard DELETE ends a message's life: it ranks above the version it carries.
const rank = (name: string, version: number): number => (name === 'DELETE' ? version + 0.5 : version);

export function analyzeStreamOrder(history: readonly HistoryEvent[], final: FinalState): { receipts: number; overtaken: Overtake[] } {
  const idx = indexRun(history, final);
  const overtaken: Overtake[] = [];
  let receipts = 0;
  for (const rs of idx.receivesBySub.values()) {
    const seenEvents = new Set<string>();
    const newest = new Map<string, number>();
    for (const r of rs) {
      if (seenEvents.has(r.eventId)) continue;
      seenEvents.add(r.eventId);
      receipts++;
      const k = rank(r.name, r.version);
      const top = newest.get(r.messageId);
      if (top !== undefined && k < top) overtaken.push({ client: r.client, room: r.room, messageId: r.messageId, version: r.version, after: Math.floor(top), t: r.t });
      else newest.set(r.messageId, k);
    }
  }
  overtaken.sort((a, b) => a.t - b.t);
  return { receipts, overtaken };
}

export function streamOrderChecker() {
  return (history: readonly HistoryEvent[], final: FinalState) => {
    const a = analyzeStreamOrder(history, final);
    const details: Record<string, unknown> = {
      receipts: a.receipts,
      overtaken: a.overtaken.length,
      messagesAffected: new Set(a.overtaken.map((o) => o.messageId)).size,
    };
    const first = a.overtaken[0];
    if (!first) return { valid: true as const, details };
    details.overtakenExamples = examples(a.overtaken);
    return { valid: false as const, details, failedAt: first.t };
  };
}
