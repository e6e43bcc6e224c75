/**
 * Channel operations of a connection: ATTACH (with resume replay, rewind backlog and presence
 * SYNC), DETACH, MESSAGE publish and PRESENCE, each checked against the connection's capability.
 */
import { allows } from './auth/capability.ts';
import type { Channel, PresenceMember, PublishRecord, Subscriber } from './channel.ts';
import { parseChannelName, parseModesParam, parseRewind, type Rewind } from './channel-names.ts';
import type { Connection } from './connection.ts';
import { filteredRecord, messageFrame, presenceToWire, withDelta, type MessageToPublish, type PresenceEvent } from './core.ts';
import type { Inbound } from './protocol/codec.ts';
import { Action, Flag, MODE_MASK, PresenceAction } from './protocol/constants.ts';
import { Errors, isAblyError } from './protocol/errors.ts';
import { messageSize, payloadFromWire } from './protocol/payload.ts';
import { asStored, changeAction, type MessageChange } from './mutations.ts';
import { LimitErrors, RateWindow } from './limits.ts';
import { compileFilter, type MessageFilter } from './filter.ts';
import { parseAnnotations, publishAnnotations } from './annotations.ts';

let syncCounter = 0;

/** Channel params Ably recognises and confirms in ATTACHED; it drops the rest. */
const ECHOED_PARAMS = new Set(['rewind', 'delta', 'modes', 'occupancy']);

// An empty name is the channel's problem (40010), not the connection's: only a missing one is malformed.
function requireChannel(pm: Inbound): string {
  if (pm.channel === undefined || pm.channel === null) throw Errors.badRequest(`Protocol message with action ${pm.action} has no channel`);
  return pm.channel;
}

export function handleAttach(conn: Connection, pm: Inbound): void {
  const name = requireChannel(pm);
  let base: string;
  let rewind: Rewind | undefined;
  let paramModes: number | undefined;
  let filter: MessageFilter | undefined;
  const params: Record<string, string> = {};
  try {
    const parsed = parseChannelName(name);
    base = parsed.base;
    Object.assign(params, parsed.params);
    for (const [k, v] of Object.entries(pm.params ?? {})) if (k !== 'agent' && v !== undefined && v !== null) params[k] = String(v);
    rewind = parseRewind(params.rewind);
    paramModes = parseModesParam(params.modes);
    if (params.filter !== undefined) filter = compileFilter(params.filter);
  } catch (e) {
    if (!isAblyError(e)) throw e;
    return conn.channelError(name, e);
  }
  // As Ably does, the `modes` param wins over mode flags on the ATTACH.
  const flagModes = (pm.flags ?? 0) & MODE_MASK;
  const requested = paramModes ?? (flagModes || undefined);
  const modes = grantedModes(conn, base, requested);
  if (!modes) return conn.channelError(name, Errors.notPermitted(`Channel denied access based on given capability; channel = ${base}`));
  const maxChannels = conn.core.opts.limits.maxChannelsPerConnection;
  if (conn.rateLimited && !conn.attachments.has(name) && conn.attachments.size >= maxChannels) return conn.channelError(name, LimitErrors.tooManyChannels(maxChannels));

  const ch = conn.core.channel(base);
  const existing = conn.attachments.get(name);
  let sub: Subscriber;
  if (existing) {
    sub = existing.sub;
    sub.modes = modes;
    sub.requested = requested;
    if (filter) sub.filter = filter;
    if (params.delta === 'vcdiff') sub.delta = {};
    else delete sub.delta;
  } else {
    sub = { conn, clientName: name, modes, live: false, ...(requested !== undefined ? { requested } : {}), ...(filter ? { filter } : {}), ...(params.delta === 'vcdiff' ? { delta: {} } : {}) };
    ch.subscribers.add(sub);
    conn.attachments.set(name, { sub, channel: ch });
  }

  let flags = modes;
  let attachSerial = ch.lastSerial();
  let replay: PublishRecord[] = [];
  if (existing?.sub.live && !(sub.delta && pm.channelSerial)) {
    flags |= Flag.RESUMED;
  } else if (existing && pm.channelSerial) {
    // (A live delta attachment re-attaching from a serial lost a delta it could not decode, RTL18: replay from there.)
    // The connection was resumed: replay what this attachment missed, if it is all still here.
    const missed = ch.since(pm.channelSerial);
    conn.core.stats.resumedAttaches++;
    // A resume with nothing missed tests nothing: the fault scenarios report how many had a gap.
    if (missed?.length) conn.core.stats.resumedAttachesReplayed++;
    if (missed) {
      flags |= Flag.RESUMED;
      replay = conn.core.opts.plantedDefect === 'resume-skips-first-missed' ? missed.slice(1) : missed;
      attachSerial = pm.channelSerial;
    }
  } else if (rewind && !((pm.flags ?? 0) & Flag.ATTACH_RESUME)) {
    // An ATTACH_RESUME attach continues an earlier attachment: its rewind was already served.
    replay = backlog(ch, rewind);
    if (replay.length) {
      flags |= Flag.HAS_BACKLOG;
      attachSerial = ch.serialOf(replay[0]!.seq - 1);
    }
  }
  const withPresence = ch.presence.size > 0 && (modes & Flag.PRESENCE_SUBSCRIBE) !== 0;
  if (withPresence) flags |= Flag.HAS_PRESENCE;

  const attached: Record<string, unknown> = { action: Action.ATTACHED, channel: name, flags, channelSerial: attachSerial };
  const known = Object.fromEntries(Object.entries(params).filter(([k]) => ECHOED_PARAMS.has(k)));
  if (Object.keys(known).length) attached.params = known;
  conn.send(attached);
  conn.core.stats.attaches++;
  if (withPresence) sendSync(conn, ch, name);
  if (modes & Flag.SUBSCRIBE) {
    for (const all of replay) {
      if (!conn.echo && all.connectionId === conn.id) continue;
      const rec = filter ? filteredRecord(all, filter) : all;
      if (!rec) continue;
      // With deltas, the first replayed message goes whole (the attach reset the base), the rest as deltas.
      const sent = sub.delta ? withDelta(sub.delta, rec, '')[0] : rec;
      conn.sendFrame(messageFrame(sent, name, conn.format));
      conn.core.stats.messagesOut += rec.messages.length;
    }
  }
  sub.live = true;
}

/** What the capability allows on `base`, narrowed to the requested modes (or Ably's defaults). */
function grantedModes(conn: Connection, base: string, requested: number | undefined): number {
  const cap = conn.identity.capability;
  let allowed = 0;
  if (allows(cap, base, 'subscribe')) allowed |= Flag.SUBSCRIBE | Flag.PRESENCE_SUBSCRIBE;
  if (allows(cap, base, 'publish')) allowed |= Flag.PUBLISH;
  if (allows(cap, base, 'presence')) allowed |= Flag.PRESENCE;
  if (allows(cap, base, 'annotation-publish')) allowed |= Flag.ANNOTATION_PUBLISH;
  if (allows(cap, base, 'annotation-subscribe')) allowed |= Flag.ANNOTATION_SUBSCRIBE;
  // Annotation delivery is opt-in at Ably: the defaults leave it out.
  return requested === undefined ? allowed & ~Flag.ANNOTATION_SUBSCRIBE : requested & allowed;
}

/**
 * After a re-auth: each attachment keeps the modes the new capability still grants, and a
 * channel it grants nothing on fails with 40160 while the connection stays up.
 */
export function recheckAttachments(conn: Connection): void {
  for (const [name, att] of [...conn.attachments]) {
    const modes = grantedModes(conn, att.channel.name, att.sub.requested);
    if (modes) {
      att.sub.modes = modes;
      continue;
    }
    removeAttachment(conn, name);
    conn.channelError(name, Errors.notPermitted(`Channel denied access based on the new capability; channel = ${att.channel.name}`));
  }
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
    const messages = r.messages.slice(r.messages.length - take).map((m) => asStored(ch, m));
    out.push({ ...r, messages });
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
  removeAttachment(conn, name);
  conn.send({ action: Action.DETACHED, channel: name });
}

function removeAttachment(conn: Connection, name: string): void {
  const att = conn.attachments.get(name);
  if (!att) return;
  att.channel.subscribers.delete(att.sub);
  conn.attachments.delete(name);
  const stillAttached = [...conn.attachments.values()].some((a) => a.channel === att.channel);
  if (!stillAttached) conn.core.leavePresence(conn.id, att.channel);
}

/** A publish or presence enter on a channel attached without the mode for it: 40165, as Ably answers. */
function requireRequestedMode(conn: Connection, name: string, mode: 'publish' | 'presence'): void {
  const requested = conn.attachments.get(name)?.sub.requested;
  const bit = mode === 'publish' ? Flag.PUBLISH : Flag.PRESENCE;
  if (requested !== undefined && (requested & bit) === 0) throw Errors.modeNotRequested(mode, name);
}

/** How many refused msgSerials a connection remembers: more than a client has in flight at a resume. */
const REFUSALS_KEPT = 256;

/**
 * Runs an ACK-requiring operation once per msgSerial: a message re-sent after a resume
 * (same msgSerial) gets its first answer again (acknowledged or refused) without being
 * published twice.
 */
function once(conn: Connection, pm: Inbound, op: (msgSerial: number) => (string | null)[] | undefined): void {
  const msgSerial = pm.msgSerial;
  if (msgSerial === undefined) throw Errors.badRequest(`Protocol message with action ${pm.action} has no msgSerial`);
  if (msgSerial < conn.nextMsgSerial) {
    const refused = conn.refusals.get(msgSerial);
    return refused ? conn.nack(msgSerial, refused) : conn.ack(msgSerial);
  }
  conn.nextMsgSerial = msgSerial + 1;
  try {
    conn.ack(msgSerial, op(msgSerial));
  } catch (e) {
    // A fatal rate breach closes the connection (the caller fails it) instead of NACKing.
    if (!isAblyError(e) || e.code === FATAL_INBOUND) throw e;
    conn.nack(msgSerial, e);
    conn.refusals.set(msgSerial, e);
    // msgSerials only grow, so the first key is the oldest.
    if (conn.refusals.size > REFUSALS_KEPT) conn.refusals.delete(conn.refusals.keys().next().value!);
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

/** ANNOTATION from a client: needs the annotation-publish capability and, when modes were requested, that mode. */
export function handleAnnotation(conn: Connection, pm: Inbound): void {
  const name = requireChannel(pm);
  once(conn, pm, (msgSerial) => {
    const { base } = parseChannelName(name);
    if (!allows(conn.identity.capability, base, 'annotation-publish')) throw Errors.notPermitted(`Unable to perform channel operation (operation = annotation-publish, channel = ${base}): not permitted by capability`);
    const requested = conn.attachments.get(name)?.sub.requested;
    if (requested !== undefined && (requested & Flag.ANNOTATION_PUBLISH) === 0) throw Errors.modeNotRequested('annotation_publish', name);
    const list = parseAnnotations(pm.annotations);
    for (const a of list) effectiveClientId(conn, a.clientId);
    publishAnnotations(conn.core, base, list, { idBase: `${conn.id}:${msgSerial}`, connectionId: conn.id, ...(conn.clientId !== undefined ? { clientId: conn.clientId } : {}) });
    return undefined;
  });
}

export function handleMessage(conn: Connection, pm: Inbound): void {
  const name = requireChannel(pm);
  once(conn, pm, (msgSerial) => {
    const { base } = parseChannelName(name);
    if (!allows(conn.identity.capability, base, 'publish')) throw Errors.notPermitted(`Unable to perform channel operation (operation = publish, channel = ${base}): not permitted by capability`);
    requireRequestedMode(conn, name, 'publish');
    const msgs = pm.messages ?? [];
    if (!msgs.length) throw Errors.badRequest('MESSAGE with no messages');
    const action = changeAction(msgs[0]!.action);
    if (action !== undefined) {
      const m = msgs[0]!;
      if (msgs.length > 1 || !m.serial) throw Errors.badRequest('A message update, delete or append carries exactly one message, with the serial it changes');
      return [conn.core.mutate(base, m.serial, toChange(action, m, conn.clientId), { idBase: `${conn.id}:${msgSerial}`, connectionId: conn.id })];
    }
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
    enforcePublishRates(conn, base, out.length);
    return conn.core.publish(base, out, { idBase: `${conn.id}:${msgSerial}`, connectionId: conn.id });
  });
}

/** A wire message as a change; the version's clientId defaults to the changer's. */
export function toChange(action: number, m: NonNullable<Inbound['messages']>[number], clientId: string | undefined): MessageChange {
  const change: MessageChange = { action, ...payloadFromWire(m) };
  if (m.name !== undefined && m.name !== null) change.name = m.name;
  if (m.extras !== undefined && m.extras !== null) change.extras = m.extras;
  const who = m.version?.clientId ?? clientId;
  if (who) change.clientId = who;
  if (m.version?.description) change.description = m.version.description;
  if (m.version?.metadata) change.metadata = m.version.metadata;
  return change;
}

export function handlePresence(conn: Connection, pm: Inbound): void {
  const name = requireChannel(pm);
  once(conn, pm, (msgSerial) => {
    const { base } = parseChannelName(name);
    if (!allows(conn.identity.capability, base, 'presence')) throw Errors.notPermitted(`Unable to perform channel operation (operation = presence, channel = ${base}): not permitted by capability`);
    if ((pm.presence ?? []).some((p) => p.action !== PresenceAction.LEAVE)) requireRequestedMode(conn, name, 'presence');
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
    const maxMembers = conn.core.opts.limits.maxPresenceMembers;
    const joining = new Set(clientIds.filter((id, i) => items[i]!.action !== PresenceAction.LEAVE && !ch.presence.has(`${id}:${conn.id}`)));
    if (conn.rateLimited && joining.size > 0 && ch.presence.size + joining.size > maxMembers) throw LimitErrors.tooManyMembers(maxMembers);
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


const FATAL_INBOUND = 42921;
const channelRates = new WeakMap<object, RateWindow>();

/** Ably's publish rates: per connection (NACK, then close far beyond it) and per channel across publishers (NACK). */
function enforcePublishRates(conn: Connection, base: string, n: number): void {
  const limits = conn.core.opts.limits;
  const channel = conn.core.channel(base);
  let window = channelRates.get(channel);
  if (!window) channelRates.set(channel, (window = new RateWindow()));
  if (!conn.rateLimited) {
    window.hit(n);
    return;
  }
  const mine = conn.inboundRate.hit(n);
  if (mine > limits.connectionInboundRate * limits.fatalInboundFactor) throw LimitErrors.connectionInboundFatal(limits.connectionInboundRate);
  if (mine > limits.connectionInboundRate) throw LimitErrors.connectionInbound(limits.connectionInboundRate);
  if (window.hit(0) + n > limits.channelInboundRate) throw LimitErrors.channelInbound(limits.channelInboundRate);
  window.hit(n);
}
