/**
 * The service's state and its one hot path: channels, connections, publishing and fan-out.
 * Each published protocol message is encoded once per (format, channel name as the client
 * wrote it) and the same bytes go to every subscriber sharing them.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { Authenticator, type Identity } from './auth/tokens.ts';
import type { KeyStore } from './auth/keys.ts';
import type { RevocationResult, RevokeRequest } from './auth/revocation.ts';
import { Channel, type PresenceMember, type PublishRecord, type RetentionOptions, type Subscriber } from './channel.ts';
import { encodeFrame } from './protocol/codec.ts';
import { Action, Flag, type Format } from './protocol/constants.ts';
import { decodePayload, messageToWire, payloadToWire, type Payload, type StoredMessage } from './protocol/payload.ts';
import { Outbox } from './outbox.ts';
import { asDelta, payloadBytes } from './delta.ts';
import { applyChange, latestVersion, type MessageChange } from './mutations.ts';
import { Stats } from './metrics.ts';
import type { Limits } from './limits.ts';
import { randomSource } from '../lib/rng.ts';

export interface CoreOptions extends RetentionOptions {
  maxMessageSize: number;
  limits: Limits;
  connectionStateTtlMs: number;
  maxIdleIntervalMs: number;
  presenceLeaveGraceMs: number;
  logger: Logger;
}

export interface PublishedMessage {
  channel: string;
  id: string;
  clientId?: string;
  connectionId?: string;
  name?: string;
  /** Decoded: string | object | Buffer */
  data: unknown;
  encoding?: string;
  timestamp: number;
  /** The message's serial within its channel */
  serial: string;
}

export interface MessageToPublish extends Payload {
  id?: string;
  name?: string;
  clientId?: string;
  extras?: unknown;
  timestamp?: number;
}

/** A connection as the core sees it (the full class lives in connection.ts). */
export interface CoreConnection {
  readonly id: string;
  readonly key: string;
  /** How it authenticated: clients use tokens, the connector (a server) its API key. */
  readonly identity: Identity;
  hasSocket(): boolean;
  dropSocket(): void;
  /** Its token was revoked: DISCONNECTED 40141, as Ably (a client that can renew comes back). */
  revoked(): void;
  shutdown(): void;
}

type Hook = { pattern: RegExp; handler: (m: PublishedMessage) => void };

export class RealtimeCore {
  readonly serverId = `srv-${randomBytes(4).toString('hex')}`;
  readonly stats = new Stats();
  readonly outbox = new Outbox();
  readonly auth: Authenticator;
  readonly channels = new Map<string, Channel>();
  readonly connections = new Map<string, CoreConnection>();
  readonly connectionsByKey = new Map<string, CoreConnection>();
  private readonly hooks = new Set<Hook>();
  private channelCounter = 0;
  private presenceCounter = 0;
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    readonly keys: KeyStore,
    readonly opts: CoreOptions,
  ) {
    this.auth = new Authenticator(keys);
    this.sweeper = setInterval(() => this.sweep(), 30_000);
    this.sweeper.unref();
  }

  get log(): Logger {
    return this.opts.logger;
  }

  channel(name: string): Channel {
    let ch = this.channels.get(name);
    if (!ch) {
      // A fresh epoch per channel instance: serials from a forgotten instance never look continuous.
      ch = new Channel(name, `${this.serverId.slice(4)}${(++this.channelCounter).toString(36)}`, this.opts, (reason, n) => this.stats.evicted(reason, n));
      this.channels.set(name, ch);
    }
    return ch;
  }

  onChannelMessage(pattern: RegExp, handler: (m: PublishedMessage) => void): () => void {
    const hook = { pattern, handler };
    this.hooks.add(hook);
    return () => this.hooks.delete(hook);
  }

  /**
   * Accepts messages already checked for size, capability and clientId. Messages whose
   * client-supplied id was seen on the channel within the window are dropped (serial null).
   */
  publish(channelName: string, messages: MessageToPublish[], origin: { idBase: string; connectionId?: string }): (string | null)[] {
    const ch = this.channel(channelName);
    const now = Date.now();
    ch.trim(now);
    const serials: (string | null)[] = [];
    const accepted: StoredMessage[] = [];
    const seq = ch.nextSeq();
    const channelSerial = ch.serialOf(seq);
    messages.forEach((m, i) => {
      const id = m.id ?? `${origin.idBase}:${i}`;
      if (m.id !== undefined && ch.isDuplicateId(id)) {
        serials.push(null);
        return;
      }
      ch.rememberId(id, now);
      const serial = `${channelSerial}:${accepted.length}`;
      const stored: StoredMessage = { id, timestamp: typeof m.timestamp === 'number' ? m.timestamp : now, serial };
      if (m.name !== undefined) stored.name = m.name;
      if (m.clientId !== undefined) stored.clientId = m.clientId;
      if (origin.connectionId !== undefined) stored.connectionId = origin.connectionId;
      if (m.data !== undefined) stored.data = m.data;
      if (m.encoding !== undefined) stored.encoding = m.encoding;
      if (m.extras !== undefined) stored.extras = m.extras;
      accepted.push(stored);
      serials.push(serial);
    });
    if (!accepted.length) return serials;
    const rec: PublishRecord = { seq, channelSerial, id: origin.idBase, timestamp: now, messages: accepted };
    if (origin.connectionId !== undefined) rec.connectionId = origin.connectionId;
    ch.append(rec);
    this.stats.messagesIn += accepted.length;
    this.fanOut(ch, rec);
    if (this.hooks.size) this.runHooks(channelName, accepted);
    return serials;
  }

  /** Updates, deletes or appends to the message published as `serial`; returns the new version's serial. */
  mutate(channelName: string, serial: string, change: MessageChange, origin: { idBase: string; connectionId?: string }): string {
    const ch = this.channel(channelName);
    const now = Date.now();
    ch.trim(now);
    const current = latestVersion(ch, serial);
    const seq = ch.nextSeq();
    const channelSerial = ch.serialOf(seq);
    const versionSerial = `${channelSerial}:0`;
    const { stored, delivered } = applyChange(current, change, versionSerial, now);
    ch.versions.set(serial, [...(ch.versions.get(serial) ?? []), stored]);
    const rec: PublishRecord = { seq, channelSerial, id: origin.idBase, timestamp: now, messages: [delivered] };
    if (origin.connectionId !== undefined) rec.connectionId = origin.connectionId;
    ch.append(rec);
    this.stats.messagesIn++;
    this.fanOut(ch, rec);
    return versionSerial;
  }

  private fanOut(ch: Channel, rec: PublishRecord): void {
    const frames = new Map<string, Buffer>();
    for (const sub of ch.subscribers) {
      if (!sub.live || (sub.modes & Flag.SUBSCRIBE) === 0) continue;
      if (!sub.conn.echo && sub.conn.id === rec.connectionId) continue;
      // The client's channel name includes its filter, so one cached frame per name and format stays right.
      let kept = sub.filter ? filteredRecord(rec, sub.filter) : rec;
      if (!kept) continue;
      let k = sub.conn.format + sub.clientName;
      if (sub.delta) [kept, k] = withDelta(sub.delta, kept, k);
      let frame = frames.get(k);
      if (!frame) {
        frame = messageFrame(kept, sub.clientName, sub.conn.format);
        frames.set(k, frame);
      }
      if (sub.conn.deliver(sub, frame)) this.stats.messagesOut += kept.messages.length;
    }
  }

  private runHooks(channel: string, msgs: StoredMessage[]): void {
    for (const hook of this.hooks) {
      if (!hook.pattern.test(channel)) continue;
      for (const m of msgs) {
        const { data, encoding } = decodePayload(m);
        const pm: PublishedMessage = { channel, id: m.id, data, timestamp: m.timestamp, serial: m.serial };
        if (m.clientId !== undefined) pm.clientId = m.clientId;
        if (m.connectionId !== undefined) pm.connectionId = m.connectionId;
        if (m.name !== undefined) pm.name = m.name;
        if (encoding !== undefined) pm.encoding = encoding;
        try {
          hook.handler(pm);
        } catch (err) {
          this.log.warn({ err, channel }, 'onChannelMessage handler threw');
        }
      }
    }
  }

  /** Sends presence events to the channel's presence subscribers, the sender included. */
  broadcastPresence(ch: Channel, id: string, connectionId: string | undefined, events: PresenceEvent[]): void {
    const frames = new Map<string, Buffer>();
    const timestamp = Date.now();
    ch.recordPresence(events, timestamp);
    for (const sub of ch.subscribers) {
      if (!sub.live || (sub.modes & Flag.PRESENCE_SUBSCRIBE) === 0) continue;
      const k = sub.conn.format + sub.clientName;
      let frame = frames.get(k);
      if (!frame) {
        const pm: Record<string, unknown> = { action: Action.PRESENCE, id, channel: sub.clientName, timestamp, presence: events.map((e) => presenceToWire(e.member, e.action, sub.conn.format)) };
        if (connectionId !== undefined) pm.connectionId = connectionId;
        frame = encodeFrame(pm, sub.conn.format);
        frames.set(k, frame);
      }
      sub.conn.sendFrame(frame);
    }
  }

  /** Removes a connection's members (all channels, or one) and tells subscribers they left. */
  leavePresence(connectionId: string, only?: Channel): void {
    for (const ch of only ? [only] : this.channels.values()) {
      const gone: PresenceEvent[] = [];
      for (const [k, m] of ch.presence) {
        if (m.connectionId !== connectionId) continue;
        ch.presence.delete(k);
        // An id not prefixed by the connection id marks the leave as server-made, so clients order it by timestamp.
        gone.push({ action: 3, member: { ...m, id: `${this.serverId}-${++this.presenceCounter}:0:0`, timestamp: Date.now() } });
      }
      if (gone.length) this.broadcastPresence(ch, `${this.serverId}-${this.presenceCounter}`, undefined, gone);
    }
  }

  registerConnection(c: CoreConnection): void {
    this.connections.set(c.id, c);
    this.connectionsByKey.set(c.key, c);
  }

  forgetConnection(c: CoreConnection): void {
    this.connections.delete(c.id);
    this.connectionsByKey.delete(c.key);
  }

  /**
   * Drops a random `fraction` of the client sockets; the same seed picks the same ones. With
   * `tokenOnly`, only connections authenticated by token (browsers, virtual users), so servers
   * holding the API key (the connector) keep publishing into the gap the others must replay.
   */
  dropConnections(fraction = 1, seed?: number, tokenOnly = false): number {
    const live = [...this.connections.values()].filter((c) => c.hasSocket() && (!tokenOnly || c.identity.method === 'token'));
    const random = randomSource(seed);
    const n = Math.min(live.length, Math.ceil(live.length * Math.max(0, Math.min(1, fraction))));
    for (let i = live.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [live[i], live[j]] = [live[j]!, live[i]!];
    }
    for (const c of live.slice(0, n)) c.dropSocket();
    this.stats.connectionsDropped += n;
    return n;
  }

  /** Bytes of history all channels hold (read at scrape time: one pass over the channels). */
  historyBytes(): number {
    let n = 0;
    for (const ch of this.channels.values()) n += ch.historyBytes;
    return n;
  }

  /**
   * Revokes tokens of `keyName` (see auth/revocation.ts) and, when each revocation applies,
   * disconnects the live connections holding a revoked token.
   */
  revokeTokens(keyName: string, req: RevokeRequest): RevocationResult[] {
    const { results, appliesAt } = this.auth.revocations.revoke(keyName, req);
    for (const at of new Set(appliesAt)) {
      // One ms past appliesAt: the check that follows compares with the clock, which a timer may not have passed yet.
      const t = setTimeout(() => this.disconnectRevoked(), Math.max(0, at - Date.now() + 1));
      t.unref();
    }
    return results;
  }

  private disconnectRevoked(): void {
    for (const c of this.connections.values()) if (c.hasSocket() && this.auth.revocations.isRevoked(c.identity)) c.revoked();
  }

  liveConnections(): number {
    let n = 0;
    for (const c of this.connections.values()) if (c.hasSocket()) n++;
    return n;
  }

  /**
   * What a crash of this in-memory service loses: every connection (no resume possible), every
   * channel with its stored messages, serials and idempotency memory, every presence member.
   * Sockets are cut without a goodbye frame. Keys, hooks and counters survive (they belong to
   * the deployment, not the process).
   */
  crash(): number {
    const all = [...this.connections.values()];
    for (const c of all) c.dropSocket();
    for (const c of all) c.shutdown();
    this.channels.clear();
    this.outbox.stop();
    return all.length;
  }

  private sweep(): void {
    const now = Date.now();
    for (const [name, ch] of this.channels) if (ch.isIdle(now)) this.channels.delete(name);
  }

  stop(): void {
    clearInterval(this.sweeper);
    for (const c of [...this.connections.values()]) c.shutdown();
    this.outbox.stop();
  }
}

export interface PresenceEvent {
  action: number;
  member: PresenceMember;
}

export function presenceToWire(m: PresenceMember, action: number, format: Format): Record<string, unknown> {
  const out: Record<string, unknown> = { action, id: m.id, clientId: m.clientId, connectionId: m.connectionId, timestamp: m.timestamp };
  if (m.extras !== undefined) out.extras = m.extras;
  return Object.assign(out, payloadToWire(m, format));
}

/**
 * For a delta attachment: a one-message record as a delta against the last message it got (the
 * frame cache key then names that base), and that message becomes the next base.
 */
export function withDelta(state: NonNullable<Subscriber['delta']>, rec: PublishRecord, key: string): [PublishRecord, string] {
  const last = rec.messages[rec.messages.length - 1]!;
  const base = state.base;
  const bytes = payloadBytes(last);
  state.base = bytes ? { id: last.id, bytes } : undefined;
  if (!base || rec.messages.length !== 1) return [rec, key];
  const delta = asDelta(last, base);
  return delta ? [{ ...rec, messages: [delta] }, `${key}\u0000${base.id}`] : [rec, key];
}

/** The record with only the messages a subscription filter accepts; undefined when none is left. */
export function filteredRecord(rec: PublishRecord, filter: (m: StoredMessage) => boolean): PublishRecord | undefined {
  const messages = rec.messages.filter(filter);
  if (!messages.length) return undefined;
  return messages.length === rec.messages.length ? rec : { ...rec, messages };
}

export function messageFrame(rec: PublishRecord, clientName: string, format: Format): Buffer {
  const pm: Record<string, unknown> = {
    action: Action.MESSAGE,
    id: rec.id,
    channel: clientName,
    channelSerial: rec.channelSerial,
    timestamp: rec.timestamp,
    messages: rec.messages.map((m, i) => messageToWire(m, format, rec, i)),
  };
  if (rec.connectionId !== undefined) pm.connectionId = rec.connectionId;
  return encodeFrame(pm, format);
}
