/**
 * What the chat-writer saw of the integration (realtime service -> Lambda), from the history's
 * invocation events: how often a message reached the writer before one published earlier on its
 * channel, how often the writer ran twice for one message, how many edits overtook their post,
 * how many retries and how many envelopes were given up. Information for the report (the
 * architecture does not promise order here); the checkers judge the outcome.
 */
import type { HistoryEvent, InvocationEvent } from '../history/types.ts';

export interface IntegrationSummary {
  invocations: number;
  messages: number;
  /** Messages some attempt delivered to the writer successfully. */
  delivered: number;
  /** Messages applied before a message published earlier on the same channel. */
  outOfOrder: number;
  outOfOrderRate: number;
  /** Largest lead (ms) by which a message overtook one published before it. */
  maxOvertakeMs: number;
  /** Invocations that were extra copies of an envelope (at-least-once delivery). */
  duplicateInvocations: number;
  /** Successful deliveries of a message beyond its first. */
  duplicateDeliveries: number;
  duplicateRate: number;
  /** Edits and deletes that reached the writer before their post (held until it arrived). */
  editsBeforePost: number;
  retries: number;
  /** Envelopes given up after the last retry: their messages never reached the writer. */
  dropped: number;
  functionErrors: number;
}

export function analyzeIntegration(history: readonly HistoryEvent[]): IntegrationSummary | undefined {
  const inv = history.filter((e): e is InvocationEvent => e.type === 'invocation');
  if (!inv.length) return undefined;
  const order = new Map<string, string[]>();
  const seen = new Set<string>();
  const started = new Map<string, number>();
  const applied = new Map<string, number>();
  const successes = new Map<string, number>();
  const s: IntegrationSummary = {
    invocations: 0, messages: 0, delivered: 0, outOfOrder: 0, outOfOrderRate: 0, maxOvertakeMs: 0, duplicateInvocations: 0,
    duplicateDeliveries: 0, duplicateRate: 0, editsBeforePost: 0, retries: 0, dropped: 0, functionErrors: 0,
  };
  const dupIds = new Set<string>();
  for (const e of inv) {
    const key = `${e.invocationId}#${e.attempt}`;
    if (e.phase === 'scheduled' && e.attempt === 1) {
      let list = order.get(e.channel);
      if (!list) order.set(e.channel, (list = []));
      for (const id of e.messageIds) if (!seen.has(id)) (seen.add(id), list.push(id));
      if (e.duplicate) dupIds.add(e.invocationId);
    } else if (e.phase === 'started') {
      s.invocations++;
      started.set(key, e.t);
      if (e.attempt > 1) s.retries++;
    } else if (e.phase === 'finished') {
      if (e.outcome === 'function-error') s.functionErrors++;
      if (e.outcome !== 'ok') continue;
      s.editsBeforePost += e.held ?? 0;
      const at = started.get(key) ?? e.t;
      for (const id of e.messageIds) {
        successes.set(id, (successes.get(id) ?? 0) + 1);
        const prev = applied.get(id);
        if (prev === undefined || at < prev) applied.set(id, at);
      }
    } else if (e.phase === 'dropped') s.dropped++;
  }
  for (const ids of order.values()) {
    let latest = -Infinity;
    for (const id of ids) {
      const at = applied.get(id);
      if (at === undefined) continue;
      if (at < latest) {
        s.outOfOrder++;
        s.maxOvertakeMs = Math.max(s.maxOvertakeMs, latest - at);
      }
      latest = Math.max(latest, at);
    }
  }
  for (const n of successes.values()) s.duplicateDeliveries += Math.max(0, n - 1);
  s.messages = seen.size;
  s.delivered = applied.size;
  s.duplicateInvocations = dupIds.size;
  const r4 = (x: number) => Math.round(x * 10_000) / 10_000;
  s.outOfOrderRate = s.messages ? r4(s.outOfOrder / s.messages) : 0;
  s.duplicateRate = s.messages ? r4(s.duplicateDeliveries / s.messages) : 0;
  return s;
}
