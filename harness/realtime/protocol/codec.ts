/**
 * Frames on the wire: JSON text or MessagePack binary. Inbound frames are decoded by their
 * WebSocket frame type (a text frame is JSON whatever the connection's format), then checked
 * with zod, so a malformed frame becomes an Ably error instead of a crash.
 */
import { Decoder, Encoder } from '@msgpack/msgpack';
import { z } from 'zod';
import type { Format } from './constants.ts';
import { AblyError, Errors } from './errors.ts';

const encoder = new Encoder({ ignoreUndefined: true });
const decoder = new Decoder();

export function encodeFrame(obj: object, format: Format): Buffer {
  if (format === 'msgpack') {
    const bytes = encoder.encode(obj);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  return Buffer.from(JSON.stringify(obj), 'utf8');
}

/** Decodes a request or frame body; throws AblyError 40000 on invalid input. */
export function decodeBody(data: Buffer, format: Format): unknown {
  try {
    return format === 'msgpack' ? decoder.decode(data) : JSON.parse(data.toString('utf8'));
  } catch (e) {
    throw Errors.badRequest(`Invalid ${format === 'msgpack' ? 'MessagePack' : 'JSON'} payload: ${(e as Error).message}`);
  }
}

const optStr = z.string().nullish();

export const wireMessageSchema = z.object({
  id: optStr,
  name: optStr,
  clientId: optStr,
  connectionId: optStr,
  connectionKey: optStr,
  data: z.unknown().optional(),
  encoding: optStr,
  extras: z.unknown().optional(),
  timestamp: z.number().nullish(),
  /** Numeric as the SDK sends it; a hand-written REST client may spell it ("message.update"). */
  action: z.union([z.number().int().min(0), z.string()]).nullish(),
  serial: optStr,
  version: z
    .object({ clientId: optStr, description: optStr, metadata: z.record(z.string(), z.string()).nullish() })
    .loose()
    .nullish(),
});
export type WireMessageIn = z.infer<typeof wireMessageSchema>;

export const wirePresenceSchema = wireMessageSchema.extend({ action: z.number().int().min(0).max(4) });
export type WirePresenceIn = z.infer<typeof wirePresenceSchema>;

export const inboundSchema = z.object({
  action: z.number().int().min(0),
  id: optStr,
  channel: z.string().optional(),
  channelSerial: optStr,
  msgSerial: z.number().int().min(0).optional(),
  flags: z.number().int().optional(),
  params: z.record(z.string(), z.unknown()).nullish(),
  messages: z.array(wireMessageSchema).optional(),
  presence: z.array(wirePresenceSchema).optional(),
  /** Validated where they are used (annotations.ts). */
  annotations: z.array(z.unknown()).optional(),
  auth: z.object({ accessToken: z.string().min(1) }).nullish(),
});
export type Inbound = z.infer<typeof inboundSchema>;

export function parseInbound(raw: unknown): Inbound {
  const r = inboundSchema.safeParse(raw);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const where = issue?.path.length ? issue.path.join('.') : 'frame';
  throw new AblyError(40000, 400, `Invalid protocol message: ${where}: ${issue?.message ?? 'malformed'}`);
}
