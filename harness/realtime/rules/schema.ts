/**
 * Integration rules: which channels invoke which Lambda function, and how faithfully to Ably's
 * AWS Lambda integration. Read from a JSON file ({"rules": [...]} or a bare array), validated.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';

const regexSource = z.string().min(1).refine(
  (s) => {
    try {
      new RegExp(s);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'expected a valid regular expression source' },
);

/** Late redelivery (see the rule's `redelivery`); also set for a while by the nemesis (`lambda-redeliver`). */
export const redeliverySchema = z.strictObject({
  delayRate: z.number().min(0).max(1).default(0),
  duplicateRate: z.number().min(0).max(1).default(0),
  delayMs: z
    .strictObject({ min: z.number().min(0).max(21_600_000), max: z.number().min(0).max(21_600_000) })
    .refine((d) => d.max >= d.min, { message: 'expected max >= min' }),
});
export type Redelivery = z.infer<typeof redeliverySchema>;

const RuleSchema = z.strictObject({
  id: z.string().min(1).max(64),
  channelPattern: regexSource,
  functionName: z.string().regex(/^(arn:aws:lambda:[^:]+:\d+:function:)?[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9$_-]+)?$/, 'expected a Lambda function name or ARN'),
  /** 'ably-lambda' (default): as Ably + AWS behave; 'ordered': one at a time per channel, the ideal. */
  mode: z.enum(['ably-lambda', 'ordered', 'queue']).default('ably-lambda'),
  /** queue: Ably -> an SQS-like queue -> Lambda's event-source mapping (see queue-mode.ts). */
  queue: z
    .strictObject({
      /** FIFO queue with MessageGroupId = channel: a channel's envelopes one at a time, in order. */
      fifo: z.boolean().default(true),
      /** Receives before a message moves to the dead-letter queue (SQS redrive policy). */
      maxReceiveCount: z.number().int().min(1).max(1000).default(100),
      /** How long a failed message stays invisible before it is received again, before timeScale. */
      visibilityTimeoutMs: z.number().min(0).max(43_200_000).default(30_000),
      /** Messages per invocation (the event-source mapping's BatchSize; FIFO: of one group, in order). */
      batchSize: z.number().int().min(1).max(10).default(10),
    })
    .default({ fifo: true, maxReceiveCount: 100, visibilityTimeoutMs: 30_000, batchSize: 10 }),
  /** Several messages of one channel per envelope. Off: one message per envelope. */
  batching: z
    .strictObject({
      enabled: z.boolean().default(true),
      maxMessages: z.number().int().min(1).max(1000).default(10),
      /** How long a partial batch waits for more messages. */
      maxDelayMs: z.number().int().min(0).max(60_000).default(50),
    })
    .optional(),
  /** ably-lambda: invocations running at once (AWS's async poller runs events in parallel). */
  concurrency: z.number().int().min(1).max(1000).default(10),
  /** ably-lambda: delay of AWS's async event queue before an invocation starts, drawn uniformly per invocation. */
  queueDelayMs: z
    .strictObject({ min: z.number().min(0).max(600_000), max: z.number().min(0).max(600_000) })
    .refine((d) => d.max >= d.min, { message: 'expected max >= min' })
    .default({ min: 0, max: 0 }),
  /** ably-lambda: probability that an envelope is invoked a second time (at-least-once delivery). */
  duplicateRate: z.number().min(0).max(1).default(0),
  /**
   * ably-lambda: late redelivery, as AWS's asynchronous invocation does it: an event is retried
   * after an internal error the caller never sees, or delivered again, seconds to hours later.
   * With probability `delayRate` an envelope's own invocation is postponed (so edits of one row
   * reach the writer out of order); with `duplicateRate` it is invoked once more, late (after
   * edits that followed it). Both wait `delayMs` (drawn uniformly), times timeScale.
   */
  redelivery: redeliverySchema.optional(),
  retry: z
    .strictObject({
      /** ably-lambda: retries after a function error (AWS: 2). */
      maxRetries: z.number().int().min(0).max(10).default(2),
      /** ably-lambda: delay before each retry (AWS: about 1 and 2 minutes), before timeScale. */
      delaysMs: z.array(z.number().min(0)).min(1).default([60_000, 120_000]),
      /** ordered: first backoff, doubling up to maxBackoffMs; retried until it succeeds. */
      initialBackoffMs: z.number().min(0).default(50),
      maxBackoffMs: z.number().min(0).default(5_000),
    })
    .default({ maxRetries: 2, delaysMs: [60_000, 120_000], initialBackoffMs: 50, maxBackoffMs: 5_000 }),
  /** Multiplies the AWS retry delays: 1/60 turns a minute into a second. */
  timeScale: z.number().positive().max(1000).default(1),
  /**
   * ably-lambda: 'RequestResponse' (default) makes this engine play AWS's async event queue
   * itself (it sees each outcome, retries, and records timings); 'Event' hands the event to
   * Lambda's own queue, as Ably does against real AWS (outcomes then invisible here).
   */
  invocationType: z.enum(['RequestResponse', 'Event']).default('RequestResponse'),
  /** Seed for duplicate draws, for reproducible runs. */
  seed: z.number().int().optional(),
});

export type IntegrationRule = z.infer<typeof RuleSchema>;
export type IntegrationRuleInput = z.input<typeof RuleSchema>;

const FileSchema = z.union([z.strictObject({ rules: z.array(RuleSchema) }), z.array(RuleSchema)]);

function describe(err: z.ZodError, where: string): Error {
  const issue = err.issues[0]!;
  const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
  return new Error(`${where}: ${path || '(root)'}: ${issue.message}`);
}

export function parseRules(value: unknown, where = 'rules'): IntegrationRule[] {
  const r = FileSchema.safeParse(value);
  if (!r.success) {
    // A union hides the useful message; re-run the object form for a precise error.
    const obj = z.strictObject({ rules: z.array(RuleSchema) }).safeParse(Array.isArray(value) ? { rules: value } : value);
    throw describe(obj.success ? r.error : obj.error, where);
  }
  const rules = Array.isArray(r.data) ? r.data : r.data.rules;
  const ids = new Set<string>();
  for (const rule of rules) {
    if (ids.has(rule.id)) throw new Error(`${where}: rule id "${rule.id}" appears twice`);
    ids.add(rule.id);
  }
  return rules;
}

export function parseRule(value: IntegrationRuleInput): IntegrationRule {
  return parseRules([value])[0]!;
}

export function loadRules(path: string): IntegrationRule[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`rules file ${path}: ${(err as Error).message}`);
  }
  return parseRules(raw, `rules file ${path}`);
}
