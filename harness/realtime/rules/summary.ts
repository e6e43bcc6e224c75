/**
 * How faithfully a run's invocations kept publish order and exactly-once delivery, computed
 * from the rules engine's records. A message is "applied" when the attempt that succeeded for
 * it started (the function saw it then). Publish order per channel is the order in which
 * messages were first scheduled, which the realtime hook guarantees.
 */
import type { RuleInvocationRecord } from './records.ts';

export interface DeliverySummary {
  messages: number;
  delivered: number;
  neverDelivered: number;
  /** Messages applied before a message published earlier on the same channel. */
  outOfOrder: number;
  outOfOrderRate: number;
  /** Largest lead (ms) by which a message overtook one published before it. */
  maxOvertakeMs: number;
  /** Successful deliveries beyond the first, per message, summed. */
  duplicateDeliveries: number;
  duplicateInvocations: number;
  retries: number;
  droppedEnvelopes: number;
  /** Sum of `countInResult` over successful responses (e.g. chat-writer's held edits: edits that overtook their post). */
  countedInResults: number;
}

export interface SummaryOptions {
  /** Reads a number out of a function's response (the engine itself knows nothing of what the function does). */
  countInResult?: (result: unknown) => number;
}

export function summarizeDeliveries(records: readonly RuleInvocationRecord[], opts: SummaryOptions = {}): DeliverySummary {
  const order = new Map<string, string[]>(); // channel -> message ids in publish order
  const seen = new Set<string>();
  const startedAt = new Map<string, number>(); // invocationId#attempt -> started
  const applied = new Map<string, number>(); // message id -> first successful start
  const successes = new Map<string, number>();
  const dupInvocations = new Set<string>();
  let retries = 0;
  let dropped = 0;
  let counted = 0;
  for (const r of records) {
    const key = `${r.invocationId}#${r.attempt}`;
    if (r.phase === 'scheduled') {
      let list = order.get(r.channel);
      if (!list) order.set(r.channel, (list = []));
      for (const id of r.messageIds) if (!seen.has(id)) (seen.add(id), list.push(id));
      if (r.duplicate) dupInvocations.add(r.invocationId);
    } else if (r.phase === 'started') {
      startedAt.set(key, r.at);
      if (r.attempt > 1) retries++;
    } else if (r.phase === 'finished' && r.outcome === 'ok') {
      if (opts.countInResult && r.result !== undefined) counted += opts.countInResult(r.result);
      const at = startedAt.get(key) ?? r.at;
      for (const id of r.messageIds) {
        successes.set(id, (successes.get(id) ?? 0) + 1);
        const prev = applied.get(id);
        if (prev === undefined || at < prev) applied.set(id, at);
      }
    } else if (r.phase === 'dropped') {
      dropped++;
    }
  }
  let outOfOrder = 0;
  let maxOvertakeMs = 0;
  for (const ids of order.values()) {
    let latestEarlier = -Infinity;
    for (const id of ids) {
      const at = applied.get(id);
      if (at === undefined) continue;
      if (at < latestEarlier) {
        outOfOrder++;
        maxOvertakeMs = Math.max(maxOvertakeMs, latestEarlier - at);
      }
      latestEarlier = Math.max(latestEarlier, at);
    }
  }
  let duplicateDeliveries = 0;
  for (const n of successes.values()) duplicateDeliveries += Math.max(0, n - 1);
  const messages = seen.size;
  return {
    messages,
    delivered: applied.size,
    neverDelivered: messages - applied.size,
    outOfOrder,
    outOfOrderRate: messages ? outOfOrder / messages : 0,
    maxOvertakeMs,
    duplicateDeliveries,
    duplicateInvocations: dupInvocations.size,
    retries,
    droppedEnvelopes: dropped,
    countedInResults: counted,
  };
}
