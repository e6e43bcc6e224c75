/** The body of a REST publish, as Ably validates it (shared by single-channel and batch publish). */
import type { RealtimeCore, MessageToPublish } from '../core.ts';
import { wireMessageSchema } from '../protocol/codec.ts';
import { Errors } from '../protocol/errors.ts';
import { messageSize, payloadFromWire } from '../protocol/payload.ts';
import type { RestCaller } from './rest-auth.ts';
import { z } from 'zod';

/**
 * Validates a REST publish body (one message or many) against the caller's clientId and the size
 * limit. A `connectionKey` on the messages publishes on behalf of that realtime connection (TM2h):
 * the messages carry its connection id, so its echo setting applies to them.
 */
export function messagesToPublish(core: RealtimeCore, caller: RestCaller, body: unknown): { messages: MessageToPublish[]; connectionId?: string } {
  const parsed = z.union([wireMessageSchema, z.array(wireMessageSchema).min(1)]).safeParse(body);
  if (!parsed.success) throw Errors.badRequest(`Invalid message body: ${parsed.error.issues[0]?.path.join('.') || 'body'}: ${parsed.error.issues[0]?.message}`);
  const list = Array.isArray(parsed.data) ? parsed.data : [parsed.data];
  let size = 0;
  const messages = list.map((m): MessageToPublish => {
    const payload = payloadFromWire(m);
    let clientId = m.clientId ?? caller.clientId;
    if (m.clientId && caller.clientId !== undefined && m.clientId !== caller.clientId) throw Errors.invalidClientId(`Mismatched clientId: message has "${m.clientId}", credentials are for "${caller.clientId}"`);
    if (m.clientId && caller.clientId === undefined && !caller.identity.wildcard) throw Errors.invalidClientId(`Mismatched clientId: an anonymous token cannot publish as "${m.clientId}"`);
    if (clientId === null) clientId = undefined;
    size += messageSize({ name: m.name, clientId: m.clientId, extras: m.extras, data: payload.data ?? null });
    const out: MessageToPublish = { ...payload };
    if (m.id) out.id = m.id;
    if (m.name !== undefined && m.name !== null) out.name = m.name;
    if (clientId !== undefined) out.clientId = clientId;
    if (m.extras !== undefined && m.extras !== null) out.extras = m.extras;
    return out;
  });
  if (size > core.opts.maxMessageSize) throw Errors.tooBig(size, core.opts.maxMessageSize);
  const keys = new Set(list.map((m) => m.connectionKey ?? undefined));
  if (keys.size > 1) throw Errors.badRequest('All messages of one publish must carry the same connectionKey (or none)');
  const [connectionKey] = keys;
  if (connectionKey === undefined) return { messages };
  return { messages, connectionId: onBehalfOf(core, caller, connectionKey) };
}

/** The connection a REST publish speaks for: one of the caller's app, live or resumable, with a compatible clientId. */
function onBehalfOf(core: RealtimeCore, caller: RestCaller, connectionKey: string): string {
  const conn = core.connectionsByKey.get(connectionKey);
  const appOf = (keyName: string) => keyName.slice(0, keyName.indexOf('.'));
  if (!conn || appOf(conn.identity.keyName) !== appOf(caller.identity.keyName)) throw Errors.invalidConnectionId(`No connection with connectionKey "${connectionKey.slice(0, 100)}" in this app`);
  return conn.id;
}
