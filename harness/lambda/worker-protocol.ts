/** Messages between the Lambda runtime's main thread and its handler workers. */
import { z } from 'zod';
import type { RunOutcome } from './context.ts';

export const workerDataSchema = z.strictObject({
  module: z.string().min(1),
  exportName: z.string().min(1),
  functionName: z.string().min(1),
  region: z.string().min(1),
});
export type WorkerData = z.infer<typeof workerDataSchema>;

export const workerRequestSchema = z.strictObject({
  id: z.number().int(),
  requestId: z.string(),
  deadline: z.number(),
  event: z.unknown(),
  clientContext: z.unknown().optional(),
});
export type WorkerRequest = z.infer<typeof workerRequestSchema>;

const outcomeSchema = z.union([
  z.strictObject({ ok: z.literal(true), payload: z.unknown() }),
  z.strictObject({ ok: z.literal(false), errorType: z.string(), errorMessage: z.string(), trace: z.array(z.string()) }),
]);

export const workerReplySchema = z.union([
  z.strictObject({ type: z.literal('ready') }),
  z.strictObject({ type: z.literal('init-error'), message: z.string() }),
  // A successful payload travels as JSON text: the runtime answers with exactly what the handler's value serialises to.
  z.strictObject({ type: z.literal('result'), id: z.number().int(), json: z.string() }),
  z.strictObject({ type: z.literal('result'), id: z.number().int(), outcome: outcomeSchema }),
]);
export type WorkerReply = z.infer<typeof workerReplySchema> | { type: 'result'; id: number; outcome: RunOutcome };
