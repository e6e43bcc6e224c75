/**
 * A light reader: a subscriber that speaks just enough of Ably's protocol to follow a room
 * (the k6 scripts' protocol client over `ws`), so fan-out can be driven at a scale where one
 * SDK client per reader would cost the generator more than the stack. It signs in like the
 * web app (login, then TokenRequests from the token endpoint), attaches the room's incoming
 * channel, answers heartbeats and renews its token in band before it expires (as Ably, the
 * service does not ask: it disconnects an expired connection with 40142), and records
 * receipts and its view exactly as an SDK reader does.
 *
 * It does not resume or reconnect: a dropped connection ends its subscription (recorded as
 * an unsubscribe). Scenarios that test client behaviour (resume, catch-up) keep the SDK.
 */
import { WebSocket } from 'ws';
import { RealtimeClient, type FrameDecoder } from '../../scenarios/k6/lib/client.ts';
import {
  Flag,
  incomingChannel,
  parseTokenDetails,
  parseTokenRequest,
  realtimeUrl,
  tokenEndpointRequest,
  tokenExchangeRequest,
  type ChangeEvent,
  type RealtimeTarget,
} from '../../scenarios/k6/lib/protocol.ts';
import { send, signIn } from '../k6/node-session.ts';
import type { ReceiveEvent } from '../history/types.ts';
import type { ChatRow } from '../../reference-app/contract/index.ts';
import type { Recorder } from './recorder.ts';
import type { ChatUser } from './user.ts';
import { errorText, toChatRow } from './virtual-user.ts';
import { VuView } from './vu-view.ts';
import { epochMsMicros } from '../lib/timestamp.ts';

export interface LightReaderOptions {
  clientId: string;
  room: string;
  realtime: RealtimeTarget;
  loginUrl: string;
  tokenUrl: string;
  recorder: Recorder;
  ignoreVersions?: boolean;
  joinTimeoutMs?: number;
  /** Shared by the readers of a thread, so each frame is decoded once (see shared-frames.ts). */
  frames?: FrameDecoder;
}

export class LightReader implements ChatUser {
  readonly clientId: string;
  readonly room: string;
  readonly view: VuView;
  readonly ownPosts: string[] = [];
  readonly deleted = new Set<string>();
  readonly continuityLosses = 0;
  readonly catchUpErrors: string[] = [];
  private ws: WebSocket | undefined;
  private client: RealtimeClient<never> | undefined;
  private joined = false;
  private cookie = '';
  /** This reader's part of every receipt line, made once. */
  private receiptHead: string | undefined;

  constructor(private readonly opts: LightReaderOptions) {
    this.clientId = opts.clientId;
    this.room = opts.room;
    this.view = new VuView({ ignoreVersions: opts.ignoreVersions ?? false });
  }

  get isJoined(): boolean {
    return this.joined;
  }

  async join(): Promise<void> {
    const rec = this.opts.recorder;
    const opId = `${this.clientId}:join:${Math.round(rec.now())}`;
    rec.record({ t: rec.now(), type: 'invoke', opId, op: 'join', client: this.clientId, room: this.room });
    try {
      const session = await signIn(this.opts.loginUrl, this.opts.tokenUrl, this.opts.realtime, this.clientId);
      this.cookie = session.cookie;
      await this.connect(session.token);
      this.scheduleRenewal(session.expires);
      this.joined = true;
      rec.record({ t: rec.now(), type: 'subscribe', client: this.clientId, room: this.room });
      rec.record({ t: rec.now(), type: 'ack', opId });
    } catch (err) {
      rec.record({ t: rec.now(), type: 'fail', opId, error: errorText(err) });
      this.ws?.terminate();
      throw err;
    }
  }

  /** Resolves once incoming is attached: from then on every change reaches this reader. */
  private connect(token: string): Promise<void> {
    const channel = incomingChannel(this.room);
    const ws = new WebSocket(realtimeUrl(this.opts.realtime, token));
    this.ws = ws;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.clientId}: incoming not attached within ${this.opts.joinTimeoutMs ?? 15_000} ms`)), this.opts.joinTimeoutMs ?? 15_000);
      const client = new RealtimeClient<never>(
        (text) => ws.send(text),
        () => Date.now(),
        {
          connected: () => client.attach(channel, Flag.SUBSCRIBE),
          attached: (ch) => {
            if (ch !== channel) return;
            clearTimeout(timer);
            resolve();
          },
          change: (_ch, change) => this.onChange(change),
          authRequested: () => void this.renew(),
          error: (e, fatal, ch) => {
            const what = `${e.code}: ${e.message}${ch ? ` (${ch})` : ''}`;
            if (!this.joined) {
              clearTimeout(timer);
              reject(new Error(`${this.clientId}: ${what}`));
            } else if (fatal || ch === channel) this.lose(what);
          },
        },
        this.opts.frames,
      );
      this.client = client;
      ws.on('message', (data, isBinary) => {
        if (!isBinary) client.receive(String(data));
      });
      ws.on('error', (err) => {
        if (!this.joined) {
          clearTimeout(timer);
          reject(err);
        }
      });
      ws.on('close', () => {
        if (this.ws === ws && client.state !== 'closing' && client.state !== 'closed') this.lose('connection closed by the service');
      });
    });
  }

  /** The service asks for a new token before the old one expires: fetch one and send it in band. */
  private renewTimer: NodeJS.Timeout | undefined;

  /** Renews at 60% of the token's remaining life, so a slow token endpoint still has time. */
  private scheduleRenewal(expires: number): void {
    clearTimeout(this.renewTimer);
    this.renewTimer = setTimeout(() => void this.renew(), Math.max(0, (expires - Date.now()) * 0.6));
    this.renewTimer.unref();
  }

  private async renew(): Promise<void> {
    try {
      const tr = await send(tokenEndpointRequest(this.opts.tokenUrl, this.cookie));
      if (tr.status !== 200) throw new Error(`token endpoint answered HTTP ${tr.status}`);
      const exchanged = await send(tokenExchangeRequest(this.opts.realtime, parseTokenRequest(tr.body)));
      if (exchanged.status !== 200) throw new Error(`requestToken answered HTTP ${exchanged.status}`);
      const details = parseTokenDetails(exchanged.body);
      if (!this.joined) return;
      this.client?.reauthorize(details.token);
      this.scheduleRenewal(details.expires);
    } catch (err) {
      this.catchUpErrors.push(`token renewal: ${errorText(err)}`);
    }
  }

  /** Without resume, a lost connection ends the subscription: the history must not owe it more. */
  private lose(why: string): void {
    if (!this.joined) return;
    this.joined = false;
    clearTimeout(this.renewTimer);
    const rec = this.opts.recorder;
    rec.record({ t: rec.now(), type: 'unsubscribe', client: this.clientId, room: this.room });
    this.catchUpErrors.push(`light reader lost its connection: ${why}`);
  }

  private onChange(c: ChangeEvent): void {
    const rec = this.opts.recorder;
    const t = rec.now();
    const shared = receiptOf(c, rec.epochMs);
    const applied = shared.row ? this.view.merge(shared.row, c.name) : false;
    const e: ReceiveEvent = { t, type: 'receive', client: this.clientId, room: this.room, ...shared.fields, applied };
    this.receiptHead ??= `,"type":"receive","client":${JSON.stringify(this.clientId)},"room":${JSON.stringify(this.room)},`;
    rec.record(e, `{"t":${t}${this.receiptHead}${shared.json},"applied":${applied}}`);
  }

  async settled(): Promise<void> {}

  recordView(): void {
    const rec = this.opts.recorder;
    rec.record({ t: rec.now(), type: 'view', client: this.clientId, room: this.room, rows: this.view.snapshot() });
  }

  async leave(opts: { asOperation?: boolean } = {}): Promise<void> {
    clearTimeout(this.renewTimer);
    const rec = this.opts.recorder;
    const ws = this.ws;
    if (!ws) return;
    const opId = `${this.clientId}:leave:${Math.round(rec.now())}`;
    if (opts.asOperation) rec.record({ t: rec.now(), type: 'invoke', opId, op: 'leave', client: this.clientId, room: this.room });
    if (this.joined) rec.record({ t: rec.now(), type: 'unsubscribe', client: this.clientId, room: this.room });
    this.joined = false;
    this.ws = undefined;
    if (ws.readyState === WebSocket.OPEN) {
      const closed = new Promise<void>((r) => ws.once('close', () => r()));
      this.client?.close();
      ws.close();
      // A close handshake the service never answers must not hold the run: bounded, then cut.
      const timer = setTimeout(() => ws.terminate(), 2000);
      await closed;
      clearTimeout(timer);
    } else ws.terminate();
    if (opts.asOperation) rec.record({ t: rec.now(), type: 'ack', opId });
  }

  private readOnly(): Promise<never> {
    return Promise.reject(new Error(`${this.clientId} is a light reader: it only reads`));
  }
  post(): Promise<boolean> {
    return this.readOnly();
  }
  edit(): Promise<void> {
    return this.readOnly();
  }
  delete(): Promise<void> {
    return this.readOnly();
  }
  typing(): Promise<void> {
    return this.readOnly();
  }
}

/** What every reader's receipt of one change has in common, and its JSON, made once per change. */
interface SharedReceipt {
  fields: Omit<ReceiveEvent, 't' | 'type' | 'client' | 'room' | 'applied'>;
  json: string;
  /** The row as views merge it: merged, never changed (applyRow copies what it keeps). */
  row: ChatRow | undefined;
  /** The run clock's origin the times are on: a thread has one recorder, but a test may have more. */
  epochMs: number;
}

const receipts = new WeakMap<ChangeEvent, SharedReceipt>();

function receiptOf(c: ChangeEvent, epochMs: number): SharedReceipt {
  let r = receipts.get(c);
  if (r && r.epochMs === epochMs) return r;
  const fields: SharedReceipt['fields'] = {
    eventId: c.eventId,
    name: c.name,
    messageId: c.row.id,
    version: c.row.version,
    deleted: c.row.deleted,
    text: c.row.text,
    author: c.row.author,
    ...(c.updatedAt !== undefined ? { commitT: epochMsMicros(c.updatedAt) - epochMs } : {}),
    ...(c.publishedAt !== undefined ? { publishT: c.publishedAt - epochMs } : {}),
    ...(c.position ? { position: c.position } : {}),
  };
  r = { fields, json: JSON.stringify(fields).slice(1, -1), row: toChatRow(c.row), epochMs };
  receipts.set(c, r);
  return r;
}
