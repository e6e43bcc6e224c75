/**
 * version-order: no subscriber applies an older version of a message after a newer one (a
 * stale apply, which leaves its view showing an edit that was overwritten).
 * Receipts that merely arrive out of order are counted as information: a correct client ignores
 * them, so they are not a violation by themselves.
 */
import type { FinalState, HistoryEvent } from '../history/types.ts';
import { memoized, examples, indexRun } from './model.ts';

export interface StaleApply {
  client: string;
  room: string;
  messageId: string;
  applied: number;
  after: number;
  t: number;
}

export interface VersionOrderAnalysis {
  receipts: number;
  /** Receipts with a lower version than one the same client already received for that message. */
  outOfOrder: number;
  staleApplies: StaleApply[];
}

// A hard DELETE ends a message's life: it ranks above the version it carries.
const rank = (name: string, version: number): number => (name === 'DELETE' ? version + 0.5 : version);

function computeVersionOrder(history: readonly HistoryEvent[], final: FinalState): VersionOrderAnalysis {
  const idx = indexRun(history, final);
  const out: VersionOrderAnalysis = { receipts: idx.receives.length, outOfOrder: 0, staleApplies: [] };
  for (const rs of idx.receivesBySub.values()) {
    const maxReceived = new Map<string, number>();
    const maxApplied = new Map<string, number>();
    for (const r of rs) {
      const k = rank(r.name, r.version);
      const seen = maxReceived.get(r.messageId);
      if (seen !== undefined && k < seen) out.outOfOrder++;
      if (seen === undefined || k > seen) maxReceived.set(r.messageId, k);
      if (!r.applied) continue;
      const top = maxApplied.get(r.messageId);
      if (top !== undefined && k < top) {
        out.staleApplies.push({ client: r.client, room: r.room, messageId: r.messageId, applied: r.version, after: Math.floor(top), t: r.t });
      }
      if (top === undefined || k > top) maxApplied.set(r.messageId, k);
    }
  }
  out.staleApplies.sort((a, b) => a.t - b.t);
  return out;
}


export function analyzeVersionOrder(history: readonly HistoryEvent[], final: FinalState): VersionOrderAnalysis {
  return memoized(history, final, 'version-order', () => computeVersionOrder(history, final));
}

export function versionOrderChecker() {
  return (history: readonly HistoryEvent[], final: FinalState) => {
    const a = analyzeVersionOrder(history, final);
    const details: Record<string, unknown> = {
      receipts: a.receipts,
      staleApplies: a.staleApplies.length,
      outOfOrderReceipts: a.outOfOrder,
    };
    const first = a.staleApplies[0];
    if (!first) return { valid: true as const, details };
    details.staleApplyExamples = examples(a.staleApplies);
    return { valid: false as const, details, failedAt: first.t };
  };
}
