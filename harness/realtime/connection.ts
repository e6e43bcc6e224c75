/**
 * One realtime connection: it outlives its socket so a client can resume it with its
 * connection key within connectionStateTtl. Dispatches frames, answers heartbeats, handles
 * AUTH renewal and token expiry, and leaves presence after a grace period when the socket goes.
 */
import { randomBytes } from 'node:crypto';
import { resolveClientId, type Identity } from './auth/tokens.ts';
import type { Channel, Recipient, Subscriber } from './channel.ts';
import { handleAnnotation, handleAttach, handleDetach, handleMessage, handlePresence, handleSyncRequest, recheckAttachments } from './channel-ops.ts';
import type { CoreConnection, RealtimeCore } from './core.ts';
import { decodeBody, encodeFrame, parseInbound } from './protocol/codec.ts';
import { Action, type Format } from './protocol/constants.ts';
import { AblyError, Errors, isAblyError } from './protocol/errors.ts';
import { LimitErrors, OutboundGate, RateWindow } from './limits.ts';
import { ANNOTATION_ACTION } from './annotations.ts';
import type { Transport } from './transport.ts';

export interface ConnectionParams {
  format: Format;
  echo: boolean;
  heartbeats: boolean;
}

export interface Attachment {
  sub: Subscriber;
  channel: Channel;
}

let counter = 0;

export class Connection implements CoreConnection, Recipient {
  readonly id: string;
  key: string;
  format: Format;
  echo: boolean;
  heartbeats: boolean;
  readonly attachments = new Map<string, Attachment>();
  nextMsgSerial = 0;
  /**
   * The refusals of recent msgSerials: a client re-sends what it has no answer for after a resume,
   * and one whose NACK was lost with the old socket must be refused again, not acknowledged.
   */
  readonly refusals = new Map<number, AblyError>();
  lastSendAt = 0;
  /** Messages this connection published in the current second (every attempt, refused ones too). */
  readonly inboundRate = new RateWindow();
  private readonly protocolRate = new RateWindow();
  /** Slow-consumer and outbound-rate drops, and the continuity losses they owe. */
  private readonly outbound: OutboundGate;
  private ws: Transport | null = null;
  private closed = false;
  private timers: { expire?: NodeJS.Timeout; grace?: NodeJS.Timeout; ttl?: NodeJS.Timeout } = {};

  constructor(
    readonly core: RealtimeCore,
    public identity: Identity,
    public clientId: string | undefined,
    params: ConnectionParams,
  ) {
    // Ids must not contain ':' (clients split message ids on it).
    this.id = randomBytes(8).toString('base64url').replace(/[-_]/g, 'x');
    this.key = newKey(this.id);
    this.format = params.format;
    this.echo = params.echo;
    this.heartbeats = params.heartbeats;
    this.outbound = new OutboundGate(core.opts.limits, core.stats, () => this.rateLimited);
    core.registerConnection(this);
    core.stats.connectionsOpened++;
  }

  /**
   * A resumed or recovered connection gets a new key, as at Ably (RTN16d): the key it came back
   * with stops working, so a second client holding it cannot take the connection back.
   */
  rotateKey(): void {
    this.core.connectionsByKey.delete(this.key);
    this.key = newKey(this.id);
    this.core.connectionsByKey.set(this.key, this);
  }

  hasSocket(): boolean {
    return this.ws !== null;
  }

  /** Binds a (new) socket and sends CONNECTED; `error` tells the client a resume failed. */
  bindSocket(ws: Transport, error?: AblyError): void {
    if (this.ws && this.ws !== ws) this.ws.terminate();
    this.ws = ws;
    clearTimeout(this.timers.grace);
    clearTimeout(this.timers.ttl);
    for (const { sub } of this.attachments.values()) sub.live = false;
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => this.onFrame(ws, toBuffer(data), isBinary));
    ws.on('close', () => this.onSocketClose(ws));
    ws.on('error', () => ws.terminate());
    this.sendConnected(error);
    this.armTokenTimers();
    this.core.log.debug({ connectionId: this.id, clientId: this.clientId, format: this.format, resumeFailed: error?.code }, 'connection bound to a socket');
  }

  private sendConnected(error?: AblyError): void {
    const o = this.core.opts;
    const connectionDetails: Record<string, unknown> = {
      connectionKey: this.key,
      maxMessageSize: o.maxMessageSize,
      maxFrameSize: maxFrameSize(o.maxMessageSize),
      maxInboundRate: o.limits.connectionInboundRate,
      serverId: this.core.serverId,
      connectionStateTtl: o.connectionStateTtlMs,
      maxIdleInterval: o.maxIdleIntervalMs,
    };
    if (this.clientId !== undefined) connectionDetails.clientId = this.clientId;
    // A wildcard token used without a clientId: Ably reports '*', which the SDK adopts as auth.clientId (RSA7b4).
    else if (this.identity.method === 'token' && this.identity.wildcard) connectionDetails.clientId = '*';
    const pm: Record<string, unknown> = { action: Action.CONNECTED, connectionId: this.id, connectionDetails };
    if (error) pm.error = error.toWire();
    this.send(pm);
  }

  sendFrame(frame: Buffer): void {
    if (!this.ws) return;
    this.lastSendAt = Date.now();
    this.core.outbox.send(this.ws, frame, this.format === 'msgpack');
  }

  deliver(sub: Subscriber, frame: Buffer): boolean {
    const ws = this.ws;
    if (!ws) return false;
    if (this.outbound.hasGaps) this.reportGaps();
    if (!this.outbound.admit(sub.clientName, ws.bufferedAmount, frame.length)) return false;
    this.sendFrame(frame);
    return true;
  }

  /** Each channel that lost messages learns it (ATTACHED without RESUMED, 80020) once the gate allows. */
  reportGaps(): void {
    if (!this.ws) return;
    for (const name of this.outbound.takeReportable(this.ws.bufferedAmount)) {
      const a = this.attachments.get(name);
      if (!a) continue;
      this.send({ action: Action.ATTACHED, channel: name, flags: a.sub.modes, channelSerial: a.channel.lastSerial(), error: LimitErrors.continuityLoss().toWire() });
    }
  }

  send(pm: object): void {
    if (this.ws) this.sendFrame(encodeFrame(pm, this.format));
  }

  ack(msgSerial: number, serials?: (string | null)[]): void {
    this.core.stats.acks++;
    this.send(serials ? { action: Action.ACK, msgSerial, count: 1, res: [{ serials }] } : { action: Action.ACK, msgSerial, count: 1 });
  }

  nack(msgSerial: number, err: AblyError): void {
    this.core.stats.nack(err.code);
    this.send({ action: Action.NACK, msgSerial, count: 1, error: err.toWire() });
  }

  channelError(channel: string, err: AblyError): void {
    this.core.stats.error(err.code);
    this.send({ action: Action.ERROR, channel, error: err.toWire() });
  }

  /** A connection-level error: the client's connection fails (or, for token errors, renews and retries). */
  fail(err: AblyError, ws = this.ws): void {
    this.core.stats.error(err.code);
    this.core.log.info({ connectionId: this.id, code: err.code, reason: err.message }, 'connection failed');
    if (ws && ws.readyState === 1) {
      // Straight to the socket: the close must not overtake the ERROR held in a paused outbox.
      ws.send(encodeFrame({ action: Action.ERROR, error: err.toWire() }, this.format), { binary: this.format === 'msgpack' });
      ws.close(1000);
    }
    this.discard();
  }

  /** Whether Ably's rate limits apply to this connection (see limits.ts, `appliesTo`). */
  get rateLimited(): boolean {
    return this.core.opts.limits.appliesTo === 'all' || this.identity.method === 'token';
  }

  private onFrame(ws: Transport, data: Buffer, isBinary: boolean): void {
    if (ws !== this.ws || this.closed) return;
    const protocolLimit = this.core.opts.limits.protocolMessageRate;
    if (this.rateLimited && this.protocolRate.hit() > protocolLimit) {
      this.fail(LimitErrors.protocolRate(protocolLimit));
      return;
    }
    let pm;
    try {
      const limit = maxFrameSize(this.core.opts.maxMessageSize);
      if (data.length > limit) throw new AblyError(40009, 400, `Frame of ${data.length} bytes exceeds the maximum frame size of ${limit} bytes`);
      pm = parseInbound(decodeBody(data, isBinary ? 'msgpack' : 'json'));
    } catch (e) {
      this.fail(isAblyError(e) ? e : Errors.badRequest(String(e)));
      return;
    }
    try {
      this.dispatch(pm);
    } catch (e) {
      if (isAblyError(e)) this.fail(e);
      else {
        this.core.log.error({ err: e, action: pm.action }, 'unexpected error handling a frame');
        this.fail(Errors.internal('Internal error handling the message'));
      }
    }
  }

  private dispatch(pm: ReturnType<typeof parseInbound>): void {
    switch (pm.action) {
      case Action.HEARTBEAT:
        this.send(pm.id ? { action: Action.HEARTBEAT, id: pm.id } : { action: Action.HEARTBEAT });
        return;
      case Action.ATTACH:
        return handleAttach(this, pm);
      case Action.DETACH:
        return handleDetach(this, pm);
      case Action.MESSAGE:
        return handleMessage(this, pm);
      case Action.PRESENCE:
        return handlePresence(this, pm);
      case Action.SYNC:
        return handleSyncRequest(this, pm);
      case ANNOTATION_ACTION:
        return handleAnnotation(this, pm);
      case Action.AUTH:
        return this.reauthorize(pm.auth?.accessToken);
      case Action.CLOSE: {
        const ws = this.ws;
        this.send({ action: Action.CLOSED });
        this.discard();
        ws?.close(1000);
        return;
      }
      case Action.DISCONNECT:
        this.ws?.close(1000);
        return;
      default:
        throw Errors.badRequest(`Unexpected protocol action ${pm.action} from a client`);
    }
  }

  /** AUTH with a new token on the live connection: same connection, new credentials. */
  private reauthorize(accessToken: string | undefined): void {
    if (!accessToken) throw Errors.badRequest('AUTH without auth.accessToken');
    const identity = this.core.auth.token(accessToken);
    const clientId = resolveClientId(identity, this.clientId);
    if (clientId !== this.clientId) throw Errors.incompatibleCredentials(`Mismatched clientId: the new token is for "${identity.clientId}", the connection is "${this.clientId}"`);
    this.identity = identity;
    this.sendConnected();
    recheckAttachments(this);
    this.armTokenTimers();
  }

  /**
   * Ably does not ask for a new token before expiry: at expiry it sends DISCONNECTED 40142, and
   * a client that can renew comes back with a new token and resumes (one that cannot fails).
   */
  private armTokenTimers(): void {
    clearTimeout(this.timers.expire);
    const expires = this.identity.expires;
    if (expires === undefined || !this.ws) return;
    const left = expires - Date.now();
    this.timers.expire = setTimeout(() => this.disconnectFor(Errors.tokenExpired()), Math.max(0, left));
  }

  revoked(): void {
    this.disconnectFor(Errors.tokenRevoked());
  }

  /** DISCONNECTED with a token error: the connection stays resumable for a client that renews its token. */
  private disconnectFor(err: AblyError): void {
    const ws = this.ws;
    if (!ws) return;
    this.core.stats.error(err.code);
    ws.send(encodeFrame({ action: Action.DISCONNECTED, error: err.toWire() }, this.format), { binary: this.format === 'msgpack' });
    ws.close(1000);
  }

  /** Keeps an idle connection alive for the client's liveness check. */
  keepAlive(now: number): void {
    if (this.outbound.hasGaps) this.reportGaps();
    if (!this.ws || now - this.lastSendAt < this.core.opts.maxIdleIntervalMs / 2 || this.core.outbox.state.paused) return;
    this.core.stats.heartbeats++;
    if (this.heartbeats) this.send({ action: Action.HEARTBEAT });
    else {
      this.lastSendAt = now;
      this.ws.ping();
    }
  }

  private onSocketClose(ws: Transport): void {
    if (ws !== this.ws) return;
    this.ws = null;
    clearTimeout(this.timers.expire);
    if (this.closed) return;
    for (const { sub } of this.attachments.values()) sub.live = false;
    this.core.log.debug({ connectionId: this.id }, 'socket gone; connection kept for resume');
    this.timers.grace = setTimeout(() => this.core.leavePresence(this.id), this.core.opts.presenceLeaveGraceMs);
    this.timers.ttl = setTimeout(() => this.discard(), this.core.opts.connectionStateTtlMs);
  }

  /** Abrupt socket loss (nemesis): the connection stays resumable. */
  dropSocket(): void {
    this.ws?.terminate();
  }

  /** Ends the connection for good: no resume, presence left now. */
  discard(): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of Object.values(this.timers)) clearTimeout(t);
    for (const { sub, channel } of this.attachments.values()) channel.subscribers.delete(sub);
    this.attachments.clear();
    this.core.leavePresence(this.id);
    this.core.forgetConnection(this);
    this.core.log.debug({ connectionId: this.id }, 'connection discarded');
  }

  shutdown(): void {
    this.discard();
    this.ws?.terminate();
  }

  get isClosed(): boolean {
    return this.closed;
  }
}

function newKey(id: string): string {
  return `${randomBytes(6).toString('hex')}!${id}-${(++counter).toString(36)}`;
}

/** Frames up to this size are parsed (so an oversized publish is NACKed); larger ones end the connection. */
export function maxFrameSize(maxMessageSize: number): number {
  return Math.max(1 << 20, maxMessageSize * 4);
}

function toBuffer(data: Buffer | ArrayBuffer | Buffer[]): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
