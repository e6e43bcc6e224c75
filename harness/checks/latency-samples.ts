/**
 * Turning a history into latency samples, stage by stage:
 *   invoke -> ack (the realtime service accepted the publish)
 *   ack -> commitT (the chat-writer's row change; once per change)
 *   commitT -> publishT (the connector's publish; once per change)
 *   publishT -> receive (per subscriber)
 *   e2e: invoke -> receive of the change the operation produced (per subscriber)
 *   editPropagation: edit invoke -> the last owed subscriber holding that version or newer.
 *
 * Receipts are tied to the operation that produced them without guessing: a version-1 INSERT
 * to the post whose opId is the row id; an UPDATE to the edit whose unique text it carries; the
 * first deleted version (or a hard DELETE) to the earliest delete of that message.
 */
import type { FinalState, HistoryEvent, InvokeEvent, ReceiveEvent } from '../history/types.ts';
import { LatencyHistogram } from './histogram.ts';
import { DEFAULT_ATTACH_GRACE_MS, DEFAULT_DETACH_GRACE_MS, attachedThroughout, changeKeyOf, indexRun, memoized, publishedAt } from './model.ts';

export const STAGES = ['e2e', 'invokeToAck', 'ackToCommit', 'commitToPublish', 'publishToReceive', 'editPropagation'] as const;
export type Stage = (typeof STAGES)[number];

export interface Sample {
  /** When the stage ended (run time, ms). */
  t: number;
  ms: number;
}

export interface LatencyAnalysis {
  samples: Record<Stage, Sample[]>;
  histograms: Record<Stage, LatencyHistogram>;
  /** Samples below zero (clock disagreement between processes), recorded as 0. */
  negative: Record<Stage, number>;
  /** Receipts no operation of this history produced (e.g. rows from before the run). */
  unattributed: number;
  /** Edits some owed subscriber never received (their loss is delivery's finding). */
  incompletePropagation: number;
}

function emptyRecord<T>(f: () => T): Record<Stage, T> {
  return Object.fromEntries(STAGES.map((s) => [s, f()])) as Record<Stage, T>;
}

function computeLatency(history: readonly HistoryEvent[], final: FinalState): LatencyAnalysis {
  const idx = indexRun(history, final);
  const out: LatencyAnalysis = {
    samples: emptyRecord(() => []),
    histograms: emptyRecord(() => new LatencyHistogram()),
    negative: emptyRecord(() => 0),
    unattributed: 0,
    incompletePropagation: 0,
  };
  const add = (stage: Stage, t: number, ms: number) => {
    if (!Number.isFinite(ms)) return;
    if (ms < 0) out.negative[stage]++;
    const v = Math.max(0, ms);
    out.samples[stage].push({ t, ms: v });
    out.histograms[stage].record(v);
  };

  const editByText = new Map<string, InvokeEvent>();
  const firstDelete = new Map<string, InvokeEvent>();
  for (const inv of idx.invokes.values()) {
    if (inv.op === 'edit' && inv.text !== undefined) editByText.set(inv.text, inv);
    if (inv.op === 'delete' && inv.messageId !== undefined) {
      const prev = firstDelete.get(inv.messageId);
      if (!prev || inv.t < prev.t) firstDelete.set(inv.messageId, inv);
    }
    const ack = idx.acks.get(inv.opId);
    if (ack && inv.op !== 'join' && inv.op !== 'leave') add('invokeToAck', ack.t, ack.t - inv.t);
  }
  const firstDeletedVersion = new Map<string, number>();
  for (const r of idx.receives) {
    if (r.name !== 'DELETE' && r.deleted) {
      const v = firstDeletedVersion.get(r.messageId);
      if (v === undefined || r.version < v) firstDeletedVersion.set(r.messageId, r.version);
    }
  }
  const producer = (r: ReceiveEvent): InvokeEvent | undefined => {
    if (r.name === 'DELETE' || (r.deleted && firstDeletedVersion.get(r.messageId) === r.version)) return firstDelete.get(r.messageId);
    if (r.deleted) return undefined;
    if (r.name === 'INSERT' || r.version === 1) {
      const post = idx.invokes.get(r.messageId);
      return post?.op === 'post' ? post : undefined;
    }
    const edit = editByText.get(r.text);
    return edit && edit.messageId === r.messageId ? edit : undefined;
  };

  const perChangeDone = new Set<string>();
  const editChanges = new Map<InvokeEvent, string>();
  for (const rs of idx.receivesBySub.values()) {
    const seen = new Set<string>();
    for (const r of rs) {
      if (seen.has(r.eventId)) continue;
      seen.add(r.eventId);
      if (r.publishT !== undefined) add('publishToReceive', r.t, r.t - r.publishT);
      const inv = producer(r);
      if (!inv) {
        out.unattributed++;
        continue;
      }
      add('e2e', r.t, r.t - inv.t);
      const key = changeKeyOf(r);
      if (inv.op === 'edit') editChanges.set(inv, key);
      if (perChangeDone.has(key)) continue;
      perChangeDone.add(key);
      const ack = idx.acks.get(inv.opId);
      const commitT = idx.changes.get(key)?.commitT ?? r.commitT;
      if (ack && commitT !== undefined) add('ackToCommit', commitT, commitT - ack.t);
      const both = idx.receivesByChange.get(key)?.find((x) => x.commitT !== undefined && x.publishT !== undefined);
      if (both) add('commitToPublish', both.publishT!, both.publishT! - both.commitT!);
    }
  }

  const bySubMessage = new Map<string, ReceiveEvent[]>();
  for (const r of idx.receives) {
    const k = `${r.client}\u0000${r.room}\u0000${r.messageId}`;
    const list = bySubMessage.get(k);
    if (list) list.push(r);
    else bySubMessage.set(k, [r]);
  }
  for (const [inv, key] of editChanges) {
    const change = idx.changes.get(key);
    if (!change || change.commitT === undefined) continue;
    // Owed as delivery owes it: attached from the commit until the change was published.
    const until = Math.max(change.commitT, publishedAt(idx, key) ?? -Infinity);
    let last = -Infinity;
    let complete = true;
    for (const sub of idx.subscribersByRoom.get(change.room) ?? []) {
      if (!attachedThroughout(sub, change.commitT, until, DEFAULT_ATTACH_GRACE_MS, DEFAULT_DETACH_GRACE_MS)) continue;
      const got = bySubMessage.get(`${sub.key}\u0000${change.messageId}`)?.find((r) => r.version >= change.version);
      if (!got) complete = false;
      else last = Math.max(last, got.t);
    }
    if (!complete) out.incompletePropagation++;
    else if (last > -Infinity) add('editPropagation', last, last - inv.t);
  }
  for (const s of STAGES) out.samples[s].sort((a, b) => a.t - b.t);
  return out;
}

export function analyzeLatency(history: readonly HistoryEvent[], final: FinalState): LatencyAnalysis {
  return memoized(history, final, 'latency', () => computeLatency(history, final));
}
