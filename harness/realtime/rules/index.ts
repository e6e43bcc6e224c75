/**
 * Integration rules on the local realtime service: every message accepted on a matching channel
 * is delivered to a Lambda function, through @aws-sdk/client-lambda, in Ably's enveloped format.
 * Knows nothing of chat: it runs whatever rules it is given.
 */
import type { Logger } from 'pino';
import { registerCleanup } from '../../lib/cleanup.ts';
import type { Delivery } from './delivery.ts';
import type { RuleMessage } from './envelope.ts';
import { Invoker, type LambdaTarget } from './invoker.ts';
import { AblyLambdaDelivery, OrderedDelivery } from './modes.ts';
import { QueueDelivery } from './queue-mode.ts';
import { sumCounters, type RuleInvocationRecord, type RuleStats } from './records.ts';
import type { IntegrationRule, Redelivery } from './schema.ts';

export { buildEnvelope, envelopeMessage, type Envelope, type EnvelopeMessage, type RuleMessage } from './envelope.ts';
export type { LambdaTarget } from './invoker.ts';
export { emptyCounters, type RuleCounters, type RuleInvocationRecord, type RuleStats } from './records.ts';
export { loadRules, parseRule, parseRules, redeliverySchema, type IntegrationRule, type IntegrationRuleInput, type Redelivery } from './schema.ts';

/** The part of the realtime service the rules need (StartedRealtime satisfies it). */
export interface RealtimeHook {
  onChannelMessage(pattern: RegExp, handler: (m: RuleMessage) => void): () => void;
}

export interface AttachedRules {
  stats(): RuleStats;
  /** Resolves when nothing is buffered, queued, in flight or waiting for a retry. */
  drain(): Promise<void>;
  /** Observe every invocation phase (for the history). Returns unsubscribe. */
  onInvocation(listener: (r: RuleInvocationRecord) => void): () => void;
  /**
   * Late redelivery on every ably-lambda rule until called again without one (the nemesis's
   * `lambda-redeliver`); the other modes model deliveries that do not redeliver late. Returns the
   * ids of the rules that took it.
   */
  setRedelivery(r: Redelivery | undefined): string[];
  stop(): Promise<void>;
}

export interface AttachOptions {
  /** The envelope's appId (default: "local"). */
  appId?: string;
  /** The envelope's site (default: "local-1"). */
  site?: string;
  logger?: Logger;
}

export function attachRules(rt: RealtimeHook, rules: IntegrationRule[], lambda: LambdaTarget, opts: AttachOptions = {}): AttachedRules {
  const invoker = new Invoker(lambda);
  const listeners = new Set<(r: RuleInvocationRecord) => void>();
  const emit = (r: RuleInvocationRecord) => {
    if (r.phase === 'dropped') opts.logger?.warn({ rule: r.ruleId, channel: r.channel, messages: r.messageIds, error: r.error }, 'integration rule gave up on an envelope');
    for (const l of listeners) {
      try {
        l(r);
      } catch (err) {
        opts.logger?.warn({ err }, 'invocation listener threw');
      }
    }
  };
  const ctx = { appId: opts.appId ?? 'local', site: opts.site ?? 'local-1', emit };
  const deliveries = new Map<string, Delivery>();
  const unsubscribes: Array<() => void> = [];
  for (const rule of rules) {
    const d = rule.mode === 'ordered' ? new OrderedDelivery(rule, invoker, ctx) : rule.mode === 'queue' ? new QueueDelivery(rule, invoker, ctx) : new AblyLambdaDelivery(rule, invoker, ctx);
    deliveries.set(rule.id, d);
    unsubscribes.push(rt.onChannelMessage(new RegExp(rule.channelPattern), (m) => d.accept(m)));
  }
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    unregister();
    for (const u of unsubscribes) u();
    await Promise.all([...deliveries.values()].map((d) => d.stop()));
    invoker.destroy();
  };
  const unregister = registerCleanup({ name: 'integration rules', stop });
  return {
    stats: () => {
      const per: Record<string, ReturnType<typeof sumCounters>> = {};
      for (const [id, d] of deliveries) per[id] = { ...d.counters };
      return { rules: per, total: sumCounters(Object.values(per)) };
    },
    drain: async () => {
      // A retry can re-queue work after one delivery went idle; loop until all are idle together.
      for (let i = 0; i < 1000; i++) {
        await Promise.all([...deliveries.values()].map((d) => d.idle()));
        if ([...deliveries.values()].every((d) => d.counters.inFlight === 0 && d.counters.queued === 0)) return;
      }
    },
    onInvocation: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    setRedelivery: (r) => {
      const took: string[] = [];
      for (const [id, d] of deliveries) {
        if (!(d instanceof AblyLambdaDelivery)) continue;
        d.setRedelivery(r);
        took.push(id);
      }
      return took;
    },
    stop,
  };
}
