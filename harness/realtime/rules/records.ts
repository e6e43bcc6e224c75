/** What the rules engine reports: one record per phase of each invocation, and counters. */

export interface RuleInvocationRecord {
  ruleId: string;
  functionName: string;
  mode: 'ably-lambda' | 'ordered' | 'queue';
  channel: string;
  /** One envelope; a duplicate invocation shares it with the original. */
  envelopeId: string;
  /** One copy of the envelope (the original or a duplicate). */
  invocationId: string;
  duplicate: boolean;
  attempt: number;
  messageIds: string[];
  /** Channel serials of the messages, in publish order. */
  serials: string[];
  phase: 'scheduled' | 'started' | 'finished' | 'retry-scheduled' | 'dropped';
  /** Wall clock, epoch ms with sub-millisecond precision. */
  at: number;
  outcome?: 'ok' | 'function-error' | 'throttled' | 'transport-error';
  error?: string;
  requestId?: string;
  /** The function's response (RequestResponse only). */
  result?: unknown;
}

export interface RuleCounters {
  /** Messages that matched the rule. */
  matched: number;
  envelopes: number;
  /** Attempts started, duplicates and retries included. */
  invocations: number;
  succeeded: number;
  functionErrors: number;
  throttled: number;
  transportErrors: number;
  retries: number;
  duplicates: number;
  /** Envelopes given up after the last retry (ably-lambda). */
  dropped: number;
  inFlight: number;
  queued: number;
}

export interface RuleStats {
  rules: Record<string, RuleCounters>;
  total: RuleCounters;
}

export function emptyCounters(): RuleCounters {
  return { matched: 0, envelopes: 0, invocations: 0, succeeded: 0, functionErrors: 0, throttled: 0, transportErrors: 0, retries: 0, duplicates: 0, dropped: 0, inFlight: 0, queued: 0 };
}

export function sumCounters(all: RuleCounters[]): RuleCounters {
  const total = emptyCounters();
  for (const c of all) for (const k of Object.keys(total) as Array<keyof RuleCounters>) total[k] += c[k];
  return total;
}

export const epochNow = (): number => performance.timeOrigin + performance.now();
