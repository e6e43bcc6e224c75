/**
 * The IPC protocol between the harness and a stack part running as its own process: the harness
 * sends the part's config once (`init`), then requests; the part answers `ready` with its
 * endpoints, one `response` per request, and `event`s it streams (invocation records). Every
 * message is validated on arrival; each part declares its methods and events as zod schemas, so
 * both sides check params and results against the same declaration.
 */
import { z } from 'zod';

export interface MethodSpec<P extends z.ZodType = z.ZodType, R extends z.ZodType = z.ZodType> {
  params: P;
  result: R;
}

export interface PartSpec {
  init: z.ZodType;
  ready: z.ZodType;
  methods: Record<string, MethodSpec>;
  events: Record<string, z.ZodType>;
}

export type Params<S extends PartSpec, M extends keyof S['methods']> = z.input<S['methods'][M]['params']>;
export type Result<S extends PartSpec, M extends keyof S['methods']> = z.output<S['methods'][M]['result']>;
export type EventData<S extends PartSpec, E extends keyof S['events']> = z.output<S['events'][E]>;

export const parentMessage = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('init'), config: z.unknown() }),
  z.strictObject({ type: z.literal('request'), id: z.number().int(), method: z.string(), params: z.unknown() }),
]);
export type ParentMessage = z.infer<typeof parentMessage>;

export const childMessage = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('ready'), info: z.unknown() }),
  z.strictObject({ type: z.literal('failed'), error: z.string() }),
  z.strictObject({ type: z.literal('response'), id: z.number().int(), ok: z.boolean(), result: z.unknown().optional(), error: z.string().optional() }),
  z.strictObject({ type: z.literal('event'), name: z.string(), data: z.unknown() }),
]);
export type ChildMessage = z.infer<typeof childMessage>;

/** The first issue of a failed parse, naming the field. */
export function describeIssue(err: z.ZodError): string {
  const i = err.issues[0];
  if (!i) return 'invalid';
  const key = i.code === 'unrecognized_keys' ? i.keys.join(', ') : i.path.join('.');
  return `${key || '(root)'}: ${i.message}`;
}

export function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw new Error(`${what}: ${describeIssue(r.error)}`);
}
