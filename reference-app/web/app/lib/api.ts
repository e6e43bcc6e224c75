/**
 * The web app's edge: the same-origin HTTP endpoints (sign-in, token, history, config) and the
 * shape of what arrives on `incoming`. Everything from the network is validated here, so the
 * store works with typed values only.
 */
import { z } from 'zod';
import { CHANGE_NAMES, isChangeName, type ChangeName, type ChatRow, type HistoryPage } from '../../../contract/index.ts';

export { ROOM_NAME } from '../../../contract/index.ts';

const chatRowSchema = z.object({
  id: z.string().min(1),
  room: z.string(),
  author: z.string(),
  username: z.string(),
  text: z.string(),
  version: z.coerce.number().int().min(1),
  edited: z.boolean(),
  deleted: z.boolean(),
  created_at: z.string(),
  updated_at: z.string(),
  sent_at: z.string().nullable().optional(),
  client_seq: z.union([z.number(), z.string()]).nullable().optional(),
}) satisfies z.ZodType<ChatRow>;

/** The connector's payload on `chat:<room>:incoming`: `{table, type, row}`. */
const changeSchema = z.object({
  table: z.string().optional(),
  type: z.enum(CHANGE_NAMES).optional(),
  row: chatRowSchema,
});

export type ChangeKind = ChangeName;

/** Reads an incoming change event; null (and the reason) when it is not one. */
export function parseChange(name: string | undefined, data: unknown): { kind: ChangeKind; row: ChatRow } | { error: string } {
  const kind = isChangeName(name) ? name : undefined;
  if (!kind) return { error: `message name: expected INSERT, UPDATE or DELETE, got ${JSON.stringify(name)}` };
  let payload = data;
  if (typeof payload === 'string') {
    try {
      payload = JSON.parse(payload);
    } catch {
      return { error: 'data: expected JSON {table, type, row}' };
    }
  }
  const parsed = changeSchema.safeParse(payload);
  if (!parsed.success) return { error: `data: ${z.prettifyError(parsed.error)}` };
  return { kind: parsed.data.type ?? kind, row: parsed.data.row };
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function request(path: string, init: RequestInit = {}): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(path, { credentials: 'same-origin', cache: 'no-store', ...init });
  } catch (err) {
    throw new ApiError(0, `${path}: network error (${err instanceof Error ? err.message : String(err)})`);
  }
  const body: unknown = await res.json().catch(() => null);
  if (!res.ok) {
    const e = z.object({ error: z.object({ field: z.string().optional(), message: z.string() }) }).safeParse(body);
    const reason = e.success ? `${e.data.error.field ? `${e.data.error.field}: ` : ''}${e.data.error.message}` : res.statusText;
    throw new ApiError(res.status, reason || `HTTP ${res.status}`);
  }
  return body;
}

function parse<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const r = schema.safeParse(body);
  if (!r.success) throw new ApiError(502, `${what}: unexpected response (${z.prettifyError(r.error)})`);
  return r.data;
}

export async function login(name: string): Promise<{ clientId: string }> {
  const body = await request('/api/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  return parse(z.object({ clientId: z.string().min(1) }), body, '/api/login');
}

export async function logout(): Promise<void> {
  await request('/api/logout', { method: 'POST' });
}

const tokenRequestSchema = z.looseObject({
  keyName: z.string().min(1),
  clientId: z.string().optional(),
  timestamp: z.number(),
  nonce: z.string(),
  mac: z.string(),
  capability: z.string().optional(),
  ttl: z.number().optional(),
});
export type TokenRequest = z.infer<typeof tokenRequestSchema>;

/** A signed TokenRequest for the signed-in user, or null when there is no session (401). */
export async function fetchTokenRequest(): Promise<TokenRequest | null> {
  try {
    return parse(tokenRequestSchema, await request('/api/token'), '/api/token');
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return null;
    throw err;
  }
}

/** The ably client options for the realtime service; an empty object means real Ably. */
export async function fetchRealtimeOptions(): Promise<Record<string, unknown>> {
  const body = await request('/api/config');
  return parse(z.object({ realtime: z.record(z.string(), z.unknown()) }), body, '/api/config').realtime;
}

export type { HistoryPage };

const historySchema = z.object({ messages: z.array(chatRowSchema), next: z.string().nullable() });

/**
 * One page of a room's history, newest first; `before` is the previous page's `next`.
 * `origin` defaults to the page's own (the browser resolves the relative path).
 */
export async function fetchHistory(room: string, opts: { before?: string | null; limit?: number; origin?: string } = {}): Promise<HistoryPage> {
  const q = new URLSearchParams();
  if (opts.before) q.set('before', opts.before);
  if (opts.limit) q.set('limit', String(opts.limit));
  const qs = q.toString();
  const path = `${opts.origin ?? ''}/api/rooms/${encodeURIComponent(room)}/messages${qs ? `?${qs}` : ''}`;
  return parse(historySchema, await request(path), path);
}

const refusalsSchema = z.object({ rejections: z.array(z.object({ id: z.string(), reason: z.string() })) });

/** The chat-writer's refusals of the signed-in user's own writes among `ids` (realtime message ids). */
export async function fetchRefusals(ids: string[]): Promise<Array<{ id: string; reason: string }>> {
  const path = `/api/rejections?ids=${ids.map(encodeURIComponent).join(',')}`;
  return parse(refusalsSchema, await request(path), '/api/rejections').rejections;
}

const roomsSchema = z.object({ rooms: z.array(z.object({ room: z.string(), lastAt: z.string(), messages: z.number() })) });
export type RoomActivity = z.infer<typeof roomsSchema>['rooms'][number];

/** Rooms with messages, most recently active first. */
export async function fetchRooms(): Promise<RoomActivity[]> {
  return parse(roomsSchema, await request('/api/rooms'), '/api/rooms').rooms;
}
