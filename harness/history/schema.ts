/**
 * zod schemas mirroring types.ts, used to validate histories and final states read from disk.
 * A saved run may come from another version of the harness or be edited by hand, so nothing is
 * trusted until it has passed these.
 */
import { z } from 'zod';
import type { DbRow, FinalState, HistoryEvent } from './types.ts';

const t = z.number().finite();
const opKind = z.enum(['post', 'edit', 'delete', 'typing', 'join', 'leave']);

const runStart = z.object({
  type: z.literal('run-start'),
  t,
  scenario: z.string(),
  seed: z.number(),
  epochMs: z.number().finite(),
  options: z.record(z.string(), z.unknown()),
});
const invoke = z.object({
  type: z.literal('invoke'),
  t,
  opId: z.string().min(1),
  op: opKind,
  client: z.string(),
  room: z.string(),
  messageId: z.string().optional(),
  text: z.string().optional(),
});
const ack = z.object({ type: z.literal('ack'), t, opId: z.string().min(1) });
const fail = z.object({ type: z.literal('fail'), t, opId: z.string().min(1), error: z.string() });
const dropped = z.object({ type: z.literal('dropped'), t, op: opKind, reason: z.string() });
const subscribe = z.object({
  type: z.enum(['subscribe', 'unsubscribe']),
  t,
  client: z.string(),
  room: z.string(),
});
const receive = z.object({
  type: z.literal('receive'),
  t,
  client: z.string(),
  room: z.string(),
  eventId: z.string(),
  name: z.enum(['INSERT', 'UPDATE', 'DELETE']),
  messageId: z.string(),
  version: z.number().int(),
  deleted: z.boolean(),
  text: z.string(),
  author: z.string(),
  commitT: z.number().finite().optional(),
  publishT: z.number().finite().optional(),
  position: z.array(z.number().finite()).min(1).optional(),
  applied: z.boolean(),
});
const fault = z.object({
  type: z.literal('fault'),
  t,
  name: z.string(),
  phase: z.enum(['start', 'end']),
  detail: z.string().optional(),
});
const viewRow = z.object({
  id: z.string(),
  text: z.string(),
  version: z.number().int(),
  deleted: z.boolean(),
  author: z.string(),
});
const view = z.object({
  type: z.literal('view'),
  t,
  client: z.string(),
  room: z.string(),
  rows: z.array(viewRow),
});
const historyPage = z.object({
  type: z.literal('history-page'),
  t,
  client: z.string(),
  room: z.string(),
  read: z.string(),
  page: z.number().int().min(0),
  sentT: z.number().finite(),
  limit: z.number().int().min(1),
  more: z.boolean(),
  rows: z.array(viewRow.extend({ createdT: z.number().finite() })),
});
const health = z.object({
  type: z.literal('health'),
  t,
  eventLoopDelayP99Ms: z.number().finite(),
  cpuPercent: z.number().finite(),
  thread: z.string().optional(),
});
const probe = z.object({
  type: z.literal('probe'),
  t,
  client: z.string(),
  action: z.string(),
  expected: z.enum(['allowed', 'refused']),
  outcome: z.enum(['allowed', 'refused']),
  error: z.string().optional(),
});
const invocation = z.object({
  type: z.literal('invocation'),
  t,
  invocationId: z.string(),
  envelopeId: z.string(),
  channel: z.string(),
  messageIds: z.array(z.string()),
  phase: z.enum(['scheduled', 'started', 'finished', 'retry-scheduled', 'dropped']),
  attempt: z.number().int(),
  duplicate: z.boolean(),
  outcome: z.enum(['ok', 'function-error', 'throttled', 'transport-error']).optional(),
  error: z.string().optional(),
  held: z.number().int().optional(),
});
const settle = z.object({ type: z.literal('settle'), t, settled: z.boolean(), waiting: z.array(z.string()) });
const generator = z.object({
  type: z.literal('generator'),
  t,
  workers: z.number().int().nonnegative(),
  readerClient: z.enum(['sdk', 'light']),
  windowMs: z.number().finite().nonnegative(),
  processCpuUs: z.number().finite().nonnegative(),
  threads: z.array(z.object({ thread: z.string(), busyUs: z.number().finite().nonnegative(), users: z.number().int().nonnegative() })),
  parts: z.array(z.object({ part: z.string(), cpuMs: z.number().finite().nonnegative() })).optional(),
});
const ms = z.number().finite().nonnegative();
const floor = z.object({ type: z.literal('floor'), t, samples: z.number().int().positive(), p50Ms: ms, p90Ms: ms, p99Ms: ms, maxMs: ms, minMs: ms });
const runEnd = z.object({ type: z.literal('run-end'), t });

const attack = z.object({
  type: z.literal('attack'),
  t,
  attack: z.string(),
  description: z.string(),
  attempts: z.number().int().min(0),
  refused: z.number().int().min(0),
  codes: z.record(z.string(), z.number().int().min(0)),
  expectedCodes: z.array(z.string()),
  allowed: z.number().int().min(0),
  unexpected: z.number().int().min(0),
  detail: z.string().optional(),
});
const resources = z.object({ type: z.literal('resources'), t, parts: z.array(z.object({ part: z.string(), rssMiB: z.number().finite() })) });

export const historyEventSchema = z.discriminatedUnion('type', [
  runStart,
  invoke,
  ack,
  fail,
  dropped,
  subscribe,
  receive,
  fault,
  view,
  historyPage,
  health,
  probe,
  invocation,
  settle,
  generator,
  floor,
  attack,
  resources,
  runEnd,
]);

export const dbRowSchema = z.object({
  id: z.string(),
  room: z.string(),
  author: z.string(),
  text: z.string(),
  version: z.number().int().min(1),
  deleted: z.boolean(),
  createdT: z.number().finite(),
  updatedT: z.number().finite(),
  sentT: z.number().finite().optional(),
});

export const finalStateSchema = z.object({
  rows: z.array(dbRowSchema),
  rejections: z.array(
    z.object({
      messageId: z.string(),
      room: z.string().nullable(),
      author: z.string().nullable(),
      name: z.string().nullable(),
      reason: z.string(),
    }),
  ),
});

// Compile-time proof that the schemas and the contract in types.ts describe the same shapes.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameEvent: Same<z.infer<typeof historyEventSchema>, HistoryEvent> = true;
const sameRow: Same<z.infer<typeof dbRowSchema>, DbRow> = true;
const sameFinal: Same<z.infer<typeof finalStateSchema>, FinalState> = true;
void sameEvent;
void sameRow;
void sameFinal;

/** One line of a zod error as "field: message", the field written as a dotted path. */
export function describeIssue(err: z.ZodError): string {
  const issue = err.issues[0];
  if (!issue) return 'invalid value';
  const field = issue.path.length ? issue.path.map(String).join('.') : '(root)';
  return `field '${field}': ${issue.message}`;
}
