/**
 * Reads Ably's enveloped integration payload ({source, appId, channel, site, ruleId, messages[]})
 * into chat operations. Each message is judged alone: one bad message yields a rejection and
 * never spoils the rest of the envelope.
 */
import { z } from 'zod';
import { isOperationName, MESSAGE_NAMES, roomOfOutgoing } from '../contract/index.ts';

export const MAX_TEXT_CHARS = 4000;
const MAX_ID_CHARS = 256;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export type RejectReason =
  | 'malformed_envelope'
  | 'malformed_message'
  | 'invalid_room'
  | 'missing_client_id'
  | 'unknown_name'
  | 'unsupported_encoding'
  | 'malformed_data'
  | 'empty_text'
  | 'text_too_long'
  | 'invalid_text'
  | 'invalid_target'
  | 'invalid_data'
  | 'not_author'
  | 'wrong_room'
  | 'unknown_target'
  | 'target_rejected'
  | 'already_deleted'
  | 'id_conflict';

interface OpBase {
  /** The realtime message id: the row id of a post, the op id of an edit or delete. */
  id: string;
  room: string;
  author: string;
  /** Realtime service timestamp (ms): publish order, used to pick the newest edit. */
  ts: number;
  name: string;
}
export type ChatOp =
  | (OpBase & { kind: 'post'; text: string; /** The client's send sequence, when it sent one. */ seq: number | null })
  | (OpBase & { kind: 'edit'; target: string; text: string })
  | (OpBase & { kind: 'delete'; target: string });

export interface Rejection {
  id: string;
  room: string | null;
  author: string | null;
  name: string | null;
  reason: RejectReason;
  detail: string;
}

export type ParsedMessage = { ok: true; op: ChatOp } | { ok: false; rejection: Rejection };

const EnvelopeSchema = z.object({
  source: z.string().optional(),
  appId: z.string().optional(),
  channel: z.string().optional(),
  site: z.string().optional(),
  ruleId: z.string().optional(),
  messages: z.array(z.unknown()),
});

const MessageSchema = z.object({
  id: z.string().min(1).max(MAX_ID_CHARS),
  clientId: z.string().optional().nullable(),
  connectionId: z.string().optional().nullable(),
  name: z.string().optional().nullable(),
  data: z.unknown(),
  encoding: z.string().optional().nullable(),
  timestamp: z.number().finite(),
});

export type Envelope = z.infer<typeof EnvelopeSchema>;

export function parseEnvelope(event: unknown): { ok: true; envelope: Envelope } | { ok: false; detail: string } {
  const r = EnvelopeSchema.safeParse(event);
  if (r.success) return { ok: true, envelope: r.data };
  const issue = r.error.issues[0]!;
  return { ok: false, detail: `${issue.path.join('.') || '(root)'}: ${issue.message}` };
}

export function roomOf(channel: string | undefined): string | null {
  return roomOfOutgoing(channel);
}

export function parseMessage(raw: unknown, channel: string | undefined, index: number): ParsedMessage {
  const m = MessageSchema.safeParse(raw);
  if (!m.success) {
    const rawId = (raw as { id?: unknown } | null)?.id;
    const id = typeof rawId === 'string' && rawId.length > 0 && rawId.length <= MAX_ID_CHARS ? rawId : `missing-id:${channel ?? '?'}:${index}`;
    const issue = m.error.issues[0]!;
    return reject({ id, room: roomOf(channel), author: null, name: null }, 'malformed_message', `${issue.path.join('.')}: ${issue.message}`);
  }
  const msg = m.data;
  const room = roomOf(channel);
  // Whatever is recorded in a rejection must itself be storable in Postgres text.
  const base = { id: msg.id, room, author: storableOrNull(msg.clientId), name: storableOrNull(msg.name) };
  if (!storable(msg.id)) {
    return reject({ ...base, id: `invalid-id:${channel ?? '?'}:${index}` }, 'malformed_message', 'id contains NUL or an unpaired surrogate');
  }
  if (!room) return reject(base, 'invalid_room', `channel ${JSON.stringify(channel)} is not chat:<room>:outgoing with room [A-Za-z0-9_-]{1,64}`);
  if (!msg.clientId || msg.clientId === '*' || !storable(msg.clientId)) return reject(base, 'missing_client_id', 'message has no usable identified publisher');
  const author = msg.clientId;
  if (!isOperationName(msg.name)) {
    return reject(base, 'unknown_name', `name ${JSON.stringify(msg.name)} is not ${MESSAGE_NAMES.post}, ${MESSAGE_NAMES.edit} or ${MESSAGE_NAMES.delete}`);
  }
  const decoded = decodeData(msg.data, msg.encoding ?? undefined);
  if (!decoded.ok) return reject(base, decoded.reason, decoded.detail);
  const data = decoded.value;
  const common = { id: msg.id, room, author, ts: msg.timestamp, name: msg.name };
  if (msg.name === MESSAGE_NAMES.post) {
    const t = checkText(data.text);
    if (!t.ok) return reject(base, t.reason, t.detail);
    return { ok: true, op: { ...common, kind: 'post', text: t.text, seq: sendSeq(data.seq) } };
  }
  const target = data.id;
  if (typeof target !== 'string' || target.length === 0 || target.length > MAX_ID_CHARS || !storable(target)) {
    return reject(base, 'invalid_target', `data.id must be a message id string of 1..${MAX_ID_CHARS} characters`);
  }
  if (msg.name === MESSAGE_NAMES.delete) return { ok: true, op: { ...common, kind: 'delete', target } };
  const t = checkText(data.text);
  if (!t.ok) return reject(base, t.reason, t.detail);
  return { ok: true, op: { ...common, kind: 'edit', target, text: t.text } };
}

/**
 * A post's optional `seq`: the client's own send order, which breaks ties between posts the
 * realtime service stamped in the same millisecond. Anything but a safe non-negative integer is
 * ignored rather than refused: the post itself is fine.
 */
function sendSeq(seq: unknown): number | null {
  return typeof seq === 'number' && Number.isSafeInteger(seq) && seq >= 0 ? seq : null;
}

function storable(s: string): boolean {
  return !s.includes('\u0000') && !LONE_SURROGATE.test(s);
}

function storableOrNull(s: string | null | undefined): string | null {
  return typeof s === 'string' && storable(s) ? s : null;
}

type Decoded = { ok: true; value: Record<string, unknown> } | { ok: false; reason: RejectReason; detail: string };

/**
 * Ably lists the encodings applied to `data`, outermost last ("json/utf-8/base64"); an object
 * payload arrives as a JSON string with encoding "json". A string without encoding may still be
 * JSON text (a client that stringified its payload itself).
 */
export function decodeData(data: unknown, encoding: string | undefined): Decoded {
  let value: unknown = data;
  const steps = encoding ? encoding.split('/').filter(Boolean) : [];
  try {
    for (const step of steps.reverse()) {
      if (step === 'base64') {
        if (typeof value !== 'string') return malformed('base64 encoding on a non-string');
        value = Buffer.from(value, 'base64');
      } else if (step === 'utf-8' || step === 'utf8') {
        value = Buffer.isBuffer(value) ? value.toString('utf8') : value;
      } else if (step === 'json') {
        const text = Buffer.isBuffer(value) ? value.toString('utf8') : value;
        if (typeof text !== 'string') return malformed('json encoding on a non-string');
        value = JSON.parse(text);
      } else {
        return { ok: false, reason: 'unsupported_encoding', detail: `encoding step ${JSON.stringify(step)} is not supported` };
      }
    }
    if (steps.length === 0 && typeof value === 'string') value = JSON.parse(value);
  } catch (err) {
    return malformed(`data is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || Buffer.isBuffer(value)) {
    return malformed('data must be a JSON object');
  }
  return { ok: true, value: value as Record<string, unknown> };
}

type TextCheck = { ok: true; text: string } | { ok: false; reason: RejectReason; detail: string };

function checkText(text: unknown): TextCheck {
  if (typeof text !== 'string') return { ok: false, reason: 'malformed_data', detail: 'data.text must be a string' };
  if (text.trim().length === 0) return { ok: false, reason: 'empty_text', detail: 'text is empty' };
  // Postgres text cannot hold NUL, and a lone surrogate has no UTF-8 form.
  if (text.includes('\u0000') || LONE_SURROGATE.test(text)) return { ok: false, reason: 'invalid_text', detail: 'text contains NUL or an unpaired surrogate' };
  const chars = [...text].length;
  if (chars > MAX_TEXT_CHARS) return { ok: false, reason: 'text_too_long', detail: `text has ${chars} characters; the limit is ${MAX_TEXT_CHARS}` };
  return { ok: true, text };
}

function malformed(detail: string): Decoded {
  return { ok: false, reason: 'malformed_data', detail };
}

function reject(base: Omit<Rejection, 'reason' | 'detail'>, reason: RejectReason, detail: string): ParsedMessage {
  return { ok: false, rejection: { ...base, reason, detail } };
}
