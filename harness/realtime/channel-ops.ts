/**
 * Channel operations of a connection: ATTACH (with resume replay, rewind backlog and presence
 * SYNC), DETACH, MESSAGE publish and PRESENCE, each checked against the connection's capability.
 */
import { allows } from './auth/capability.ts';
import type { Channel, PresenceMember, PublishRecord, Subscriber } from './channel.ts';
import { parseChannelName, parseRewind, type Rewind } from './channel-names.ts';
import type { Connection } from './connection.ts';
import { messageFrame, presenceToWire, type MessageToPublish, type PresenceEvent } from './core.ts';
import type { Inbound } from './protocol/codec.ts';
import { Action, Flag, MODE_MASK, PresenceAction } from './protocol/constants.ts';
import { Errors, isAblyError } from './protocol/errors.ts';
import { messageSize, payloadFromWire } from './protocol/payload.ts';

let syncCounter = 0;

function requireChannel(pm: Inbound): string {
  if (!pm.channel) throw Errors.badRequest(`Protocol message with action ${pm.action} has no channel`);
  return pm.channel;
}

export function handleAttach(conn: Connection, pm: Inbound): void {
  const name = requireChannel(pm);
  let base: string;
  let rewind: Rewind | undefined;
  const params: Record<string, string> = {};
  try {
    const parsed = parseChannelName(name);
    base = parsed.base;
    Object.assign(params, parsed.params);
    for (const [k, v] of Object.entries(pm.params ?? {})) if (k !== 'agent' && v !== undefined && v !== null) params[k] = String(v);
    rewind = parseRewind(params.rewind);
  } catch (e) {
    if (!isAblyError(e)) throw e;
    return conn.channelError(name, e);
  }
  const cap = conn.identity.capability;
  let allowed = 0;
  if (allows(cap, base, 'subscribe')) allowed |= Flag.SUBSCRIBE | Flag.PRESENCE_SUBSCRIBE;
  if (allows(cap, base, 'publish')) allowed |= Flag.PUBLISH;
  if (allows(cap, base, 'presence')) allowed |= Flag.PRESENCE;
  const requested = (pm.flags ?? 0) & MODE_MASK;
  const modes = requested ? requested & allowed : allowed;
  if (!modes) return conn.channelError(name, Errors.notPermitted(`Channel denied access based on given capability; channel = ${base}`));

  const ch = conn.core.channel(base);
  const existing = conn.attachments.get(name);
  let sub: Subscriber;
  if (existing) {
    sub = existing.sub;
    sub.modes = modes;
  } else {
    sub = { conn, clientName: name, modes, live: false };
    ch.subscribers.add(sub);
    conn.attachments.set(name, { sub, channel: ch });
  }

  let flags = modes;
  let attachSerial = ch.lastSerial();
  let replay: PublishRecord[] = [];
  if (existing?.sub.live) {
    flags |= Flag.RESUMED;
  } else if (existing && pm.channelSerial) {
    // The connection was resumed: replay what this attachment missed, if it is all still here.
    const missed = ch.since(pm.channelSerial);
    conn.core.stats.resumedAttaches++;
    // A resume with nothing missed tests nothing: the fault scenarios report how many had a gap.
    if (missed?.length) conn.core.stats.resumedAttachesReplayed++;
    if (missed) {
      flags |= Flag.RESUMED;
      replay = missed;
      attachSerial = pm.channelSerial;
    }
  } else if (rewind) {
    replay = backlog(ch, rewind);
    if (replay.length) {
      flags |= Flag.HAS_BACKLOG;
      attachSerial = ch.serialOf(replay[0]!.seq - 1);
    }
  }
  const withPresence = ch.presence.size > 0 && (modes & Flag.PRESENCE_SUBSCRIBE) !== 0;
  if (withPresence) flags |= Flag.HAS_PRESENCE;

  const attached: Record<string, unknown> = { action: Action.ATTACHED, channel: name, flags, channelSerial: attachSerial };
  if (Object.keys(params).length) attached.params = params;
  conn.send(attached);
  conn.core.stats.attaches++;
  if (withPresence) sendSync(conn, ch, name);
  if (modes & Flag.SUBSCRIBE) {
    for (const rec of replay) {
      if (!conn.echo && rec.connectionId === conn.id) continue;
      conn.sendFrame(messageFrame(rec, name, conn.format));
      conn.core.stats.messagesOut += rec.messages.length;
    }
  }
  sub.live = true;
}

/** The newest messages a `rewind` asks for, as whole records except possibly the oldest. */
function backlog(ch: Channel, rewind: Rewind): PublishRecord[] {
  const all = ch.history();
  const out: PublishRecord[] = [];
  let count = 0;
  const limit = 'count' in rewind ? rewind.count : 100;
  const since = 'sinceMs' in rewind ? Date.now() - rewind.sinceMs : -Infinity;
  for (let i = all.length - 1; i >= 0 && count < limit; i--) {
    const r = all[i]!;
    if (r.timestamp < since) break;
    const take = Math.min(r.messages.length, limit - count);
    out.push(take === r.messages.length ? r : { ...r, messages: r.messages.slice(r.messages.length - take) });
    count += take;
  }
  return out.reverse();
}

export function sendSync(conn: Connection, ch: Channel, clientName: string): void {
  const presence = [...ch.presence.values()].map((m) => presenceToWire(m, PresenceAction.PRESENT, conn.format));
  // An empty cursor after the sync id tells the client this is the whole set.
  conn.send({ action: Action.SYNC, channel: clientName, channelSerial: `sync${++syncCounter}:`, presence });
}

export function handleSyncRequest(conn: Connection, pm: Inbound): void {
  const name = requireChannel(pm);
  const att = conn.attachments.get(name);
  if (att) sendSync(conn, att.channel, name);
}

export function handleDetach(conn: Connection, pm: Inbound): void {
  const name = requireChannel(pm);
  const att = conn.attachments.get(name);
  if (att) {
    att.channel.subscribers.delete(att.sub);
    conn.attachments.delete(name);
    const stillAttached = [...conn.attachments.values()].some((a) => a.channel === att.channel);
    if (!stillAttached) conn.core.leavePresence(conn.id, att.channel);
  }
  conn.send({ action: Action.DETACHED, channel: name });
}

/**
 * Runs an ACK-requiring operation once per msgSerial: a message re-sent after a resume
 * (same msgSerial) is acknowledged again without being published twice.
 */
function once(conn: Connection, pm: Inbound, op: (msgSerial: number) => (string | null)[] | undefined): void {
  const msgSerial = pm.msgSerial;
  if (msgSerial === undefined) throw Errors.badRequest(`Protocol message with action ${pm.action} has no msgSerial`);
  if (msgSerial < conn.nextMsgSerial) return conn.ack(msgSerial);
  conn.nextMsgSerial = msgSerial + 1;
  try {
    conn.ack(msgSerial, op(msgSerial));
  } catch (e) {
    if (!isAblyError(e)) throw e;
    conn.nack(msgSerial, e);
  }
}

/** The clientId a message or presence member gets from this connection's identity. */
function effectiveClientId(conn: Connection, requested: string | null | undefined): string | undefined {
  if (requested === undefined || requested === null || requested === '') return conn.clientId;
  if (conn.clientId !== undefined && requested !== conn.clientId) {
    throw Errors.invalidClientId(`Mismatched clientId: message has "${requested}", connection is "${conn.clientId}"`);
  }
  if (conn.clientId === undefined && !conn.identity.wildcard) throw Errors.invalidClientId(`Mismatched clientId: an anonymous token cannot publish as "${requested}"`);
  return requested;
}

export function handleMessage(conn: Connection, pm: Inbound): void {
  const name = requireChannel(pm);
  once(conn, pm, (msgSerial) => {
    const { base } = parseChannelName(name);
    if (!allows(conn.identity.capability, base, 'publish')) throw Errors.notPermitted(`Unable to perform channel operation (operation = publish, channel = ${base}): not permitted by capability`);
    const msgs = pm.messages ?? [];
    if (!msgs.length) throw Errors.badRequest('MESSAGE with no messages');
    let size = 0;
    const out: MessageToPublish[] = msgs.map((m) => {
      const clientId = effectiveClientId(conn, m.clientId);
      const payload = payloadFromWire(m);
      const msg: MessageToPublish = { ...payload };
      if (m.id) msg.id = m.id;
      if (m.name !== undefined && m.name !== null) msg.name = m.name;
      if (clientId !== undefined) msg.clientId = clientId;
      if (m.extras !== undefined && m.extras !== null) msg.extras = m.extras;
      size += messageSize({ name: m.name, clientId: m.clientId, extras: m.extras, data: payload.data ?? null });
      return msg;
    });
    const max = conn.core.opts.maxMessageSize;
    if (size > max) throw Errors.tooBig(size, max);
    return conn.core.publish(base, out, { idBase: `${conn.id}:${msgSerial}`, connectionId: conn.id });
  });
}

export function handlePresence(conn: Connection, pm: Inbound): void {
  const name = requireChannel(pm);
  once(conn, pm, (msgSerial) => {
    const { base } = parseChannelName(name);
    if (!allows(conn.identity.capability, base, 'presence')) throw Errors.notPermitted(`Unable to perform channel operation (operation = presence, channel = ${base}): not permitted by capability`);
    const ch = conn.core.channel(base);
    const now = Date.now();
    const events: PresenceEvent[] = [];
    const items = pm.presence ?? [];
    // Check every item before applying any, so a rejected batch changes nothing.
    const clientIds = items.map((p) => {
      const clientId = effectiveClientId(conn, p.clientId);
      if (clientId === undefined) throw Errors.noClientIdForPresence();
      return clientId;
    });
    items.forEach((p, i) => {
      const clientId = clientIds[i]!;
      const memberKey = `${clientId}:${conn.id}`;
      const existing = ch.presence.get(memberKey);
      const member: PresenceMember = { clientId, connectionId: conn.id, id: p.id ?? `${conn.id}:${msgSerial}:${i}`, timestamp: now, ...payloadFromWire(p) };
      if (p.extras !== undefined && p.extras !== null) member.extras = p.extras;
      if (p.action === PresenceAction.LEAVE) {
        if (!existing) return;
        ch.presence.delete(memberKey);
        events.push({ action: PresenceAction.LEAVE, member: member.data === undefined ? { ...member, data: existing.data ?? null, ...(existing.encoding ? { encoding: existing.encoding } : {}) } : member });
        return;
      }
      // A re-entry after a resume carries the member's id: nothing changed, nobody needs telling.
      if (existing && p.id && existing.id === p.id) return;
      ch.presence.set(memberKey, member);
      const action = p.action === PresenceAction.ENTER && existing ? PresenceAction.UPDATE : p.action === PresenceAction.PRESENT ? PresenceAction.UPDATE : p.action;
      events.push({ action, member });
    });
    conn.core.stats.presenceIn += events.length;
    if (events.length) conn.core.broadcastPresence(ch, `${conn.id}:${msgSerial}`, conn.id, events);
    return undefined;
  });
}

