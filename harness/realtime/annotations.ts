/**
 * Message annotations (`channel.annotations`): ANNOTATION (21) from a realtime client or
 * `POST /channels/:ch/messages/:serial/annotations`, delivered as ANNOTATION to attachments with
 * the ANNOTATION_SUBSCRIBE mode, each followed by the annotated message's summary (a MESSAGE with
 * action message.summary) to subscribers; `GET` of the same path lists them, oldest first.
 * Summaries count per type and name: `{total, clientIds}` (Ably's shape for distinct/unique
 * types; the other aggregation kinds are not computed). Kept in memory, never trimmed, per channel.
 */
import { z } from 'zod';
import type { Channel } from './channel.ts';
import type { RealtimeCore } from './core.ts';
import { encodeFrame } from './protocol/codec.ts';
import { Action, Flag } from './protocol/constants.ts';
import { Errors } from './protocol/errors.ts';

export const ANNOTATION_ACTION = 21;
const SUMMARY_ACTION = 4;

export const wireAnnotationSchema = z.object({
  id: z.string().nullish(),
  action: z.union([z.literal(0), z.literal(1)]).nullish(),
  messageSerial: z.string({ error: 'messageSerial: the annotated message\'s serial is required' }).min(1),
  type: z.string({ error: 'type: an annotation type such as "reaction:distinct.v1" is required' }).min(1),
  name: z.string().nullish(),
  count: z.number().int().nullish(),
  clientId: z.string().nullish(),
  data: z.unknown().optional(),
  encoding: z.string().nullish(),
  extras: z.unknown().optional(),
});
export type WireAnnotation = z.infer<typeof wireAnnotationSchema>;

export interface StoredAnnotation {
  id: string;
  action: 0 | 1;
  serial: string;
  messageSerial: string;
  type: string;
  name?: string;
  count?: number;
  clientId?: string;
  connectionId?: string;
  timestamp: number;
  data?: unknown;
  encoding?: string;
  extras?: unknown;
}

const byChannel = new WeakMap<Channel, { list: StoredAnnotation[]; counter: number }>();

export function parseAnnotations(raw: unknown): WireAnnotation[] {
  const r = z.array(wireAnnotationSchema).min(1, 'at least one annotation is required').safeParse(raw);
  if (!r.success) throw Errors.badRequest(`Invalid annotation: ${r.error.issues[0]?.path.join('.') || 'body'}: ${r.error.issues[0]?.message}`);
  return r.data;
}

/** Stores and delivers annotations; `clientId` is the one the credentials allow (checked by the caller). */
export function publishAnnotations(core: RealtimeCore, channelName: string, list: WireAnnotation[], origin: { idBase: string; clientId?: string; connectionId?: string }): void {
  const ch = core.channel(channelName);
  const state = byChannel.get(ch) ?? { list: [], counter: 0 };
  byChannel.set(ch, state);
  const now = Date.now();
  const made = list.map((a, i): StoredAnnotation => {
    // Later than the annotated message and than every earlier annotation, without taking a channel serial.
    const serial = `${ch.lastSerial()}:a${(++state.counter).toString().padStart(9, '0')}`;
    const out: StoredAnnotation = { id: a.id ?? `${origin.idBase}:${i}`, action: a.action ?? 0, serial, messageSerial: a.messageSerial, type: a.type, timestamp: now };
    if (a.name != null) out.name = a.name;
    if (a.count != null) out.count = a.count;
    const clientId = a.clientId ?? origin.clientId;
    if (clientId != null) out.clientId = clientId;
    if (origin.connectionId !== undefined) out.connectionId = origin.connectionId;
    if (a.data !== undefined) out.data = a.data;
    if (a.encoding != null) out.encoding = a.encoding;
    if (a.extras !== undefined) out.extras = a.extras;
    return out;
  });
  state.list.push(...made);
  const frames = new Map<string, Buffer>();
  for (const sub of ch.subscribers) {
    if (!sub.live || (sub.modes & Flag.ANNOTATION_SUBSCRIBE) === 0) continue;
    const k = sub.conn.format + sub.clientName;
    let f = frames.get(k);
    if (!f) frames.set(k, (f = encodeFrame({ action: ANNOTATION_ACTION, channel: sub.clientName, annotations: made }, sub.conn.format)));
    sub.conn.sendFrame(f);
  }
  for (const serial of new Set(made.map((a) => a.messageSerial))) sendSummary(ch, state.list, serial, now);
}

function sendSummary(ch: Channel, all: StoredAnnotation[], messageSerial: string, timestamp: number): void {
  const summary: Record<string, Record<string, { total: number; clientIds: string[] }>> = {};
  for (const a of all) {
    if (a.messageSerial !== messageSerial || a.name === undefined) continue;
    const byName = (summary[a.type] ??= {});
    const entry = (byName[a.name] ??= { total: 0, clientIds: [] });
    if (a.action === 1) {
      if (a.clientId !== undefined && entry.clientIds.includes(a.clientId)) entry.clientIds = entry.clientIds.filter((c) => c !== a.clientId);
    } else if (a.clientId === undefined || !entry.clientIds.includes(a.clientId)) {
      if (a.clientId !== undefined) entry.clientIds.push(a.clientId);
    }
    entry.total = entry.clientIds.length;
  }
  const frames = new Map<string, Buffer>();
  for (const sub of ch.subscribers) {
    if (!sub.live || (sub.modes & Flag.SUBSCRIBE) === 0) continue;
    const k = sub.conn.format + sub.clientName;
    let f = frames.get(k);
    if (!f) {
      const message = { action: SUMMARY_ACTION, serial: messageSerial, timestamp, annotations: { summary } };
      frames.set(k, (f = encodeFrame({ action: Action.MESSAGE, channel: sub.clientName, timestamp, messages: [message] }, sub.conn.format)));
    }
    sub.conn.sendFrame(f);
  }
}

/** The annotations of one message, oldest first. */
export function annotationsOf(ch: Channel | undefined, messageSerial: string): StoredAnnotation[] {
  return ch ? (byChannel.get(ch)?.list ?? []).filter((a) => a.messageSerial === messageSerial) : [];
}
