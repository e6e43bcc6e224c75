/**
 * How faithfully a run's invocations kept publish order and exactly-once delivery, computed
 * from the rules engine's records. A message is "applied" when the attempt that succeeded for
 * it started (the function saw it then). Publish order per channel is the order in which
 * messages were first scheduled, which the realtime hook guarantees.
 */
import { analyzeIntegration } from '../checks/integration.ts';
import type { InvocationEvent } from '../history/types.ts';
import type { RuleInvocationRecord } from '../realtime/rules/records.ts';

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

/** The history's invocation event for an engine record, its time shifted to the history's origin. */
export function toInvocationEvent(r: RuleInvocationRecord, originMs = 0, opts: SummaryOptions = {}): InvocationEvent {
  const held = r.phase === 'finished' && r.outcome === 'ok' && opts.countInResult && r.result !== undefined ? opts.countInResult(r.result) : 0;
  return {
    type: 'invocation',
    t: r.at - originMs,
    invocationId: r.invocationId,
    envelopeId: r.envelopeId,
    channel: r.channel,
    messageIds: r.messageIds,
    phase: r.phase,
    attempt: r.attempt,
    duplicate: r.duplicate,
    ...(r.outcome ? { outcome: r.outcome } : {}),
    ...(r.error ? { error: r.error.slice(0, 300) } : {}),
    ...(held > 0 ? { held } : {}),
  };
}

export function summarizeDeliveries(records: readonly RuleInvocationRecord[], opts: SummaryOptions = {}): DeliverySummary {
  // One algorithm for the engine's records and for a run's history: the records become the
  // history's invocation events (times in ms, any origin) and are judged the same way.
  const events = records.map((r) => toInvocationEvent(r, 0, opts));
  const s = analyzeIntegration(events);
  if (!s) {
    return { messages: 0, delivered: 0, neverDelivered: 0, outOfOrder: 0, outOfOrderRate: 0, maxOvertakeMs: 0, duplicateDeliveries: 0, duplicateInvocations: 0, retries: 0, droppedEnvelopes: 0, countedInResults: 0 };
  }
  return {
    messages: s.messages,
    delivered: s.delivered,
    neverDelivered: s.messages - s.delivered,
    outOfOrder: s.outOfOrder,
    outOfOrderRate: s.messages ? s.outOfOrder / s.messages : 0,
    maxOvertakeMs: s.maxOvertakeMs,
    duplicateDeliveries: s.duplicateDeliveries,
    duplicateInvocations: s.duplicateInvocations,
    retries: s.retries,
    droppedEnvelopes: s.dropped,
    countedInResults: s.editsBeforePost,
  };
}
