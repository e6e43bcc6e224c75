/** Zod shapes of what crosses from a part process to the harness: stats and invocation records. */
import { z } from 'zod';

const count = z.number();

export const ruleCountersSchema = z.strictObject({
  matched: count,
  envelopes: count,
  invocations: count,
  succeeded: count,
  functionErrors: count,
  throttled: count,
  transportErrors: count,
  retries: count,
  duplicates: count,
  dropped: count,
  inFlight: count,
  queued: count,
});

export const ruleStatsSchema = z.strictObject({ rules: z.record(z.string(), ruleCountersSchema), total: ruleCountersSchema });

export const ruleRecordSchema = z.strictObject({
  ruleId: z.string(),
  functionName: z.string(),
  mode: z.enum(['ably-lambda', 'ordered', 'queue']),
  channel: z.string(),
  envelopeId: z.string(),
  invocationId: z.string(),
  duplicate: z.boolean(),
  attempt: z.number().int(),
  messageIds: z.array(z.string()),
  serials: z.array(z.string()),
  phase: z.enum(['scheduled', 'started', 'finished', 'retry-scheduled', 'dropped']),
  at: z.number(),
  outcome: z.enum(['ok', 'function-error', 'throttled', 'transport-error']).optional(),
  error: z.string().optional(),
  requestId: z.string().optional(),
  result: z.unknown().optional(),
});

export const functionStatsSchema = z.strictObject({
  invocations: count,
  errors: count,
  throttles: count,
  inFlight: count,
  asyncQueued: count,
  asyncRetries: count,
  asyncDropped: count,
  asyncToDestination: count,
});

export const lambdaRecordSchema = z.strictObject({
  functionName: z.string(),
  requestId: z.string(),
  invocationType: z.enum(['RequestResponse', 'Event']),
  attempt: z.number().int(),
  phase: z.enum(['queued', 'started', 'finished', 'retry-scheduled', 'dropped', 'throttled']),
  at: z.number(),
  error: z.string().optional(),
});

export { lambdaFaultSchema } from '../../lambda/index.ts';

export const credentialsSchema = z.strictObject({ accessKeyId: z.string().min(1), secretAccessKey: z.string().min(1) });

/** How long a drain may wait, and what it found when it stopped waiting. */
export const drainParams = z.strictObject({ timeoutMs: z.number().int().min(0) });
