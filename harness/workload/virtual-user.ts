/**
 * A virtual user: one real `ably` Realtime client that signs in like the web app does, attaches
 * to its room's channels, publishes operations on outgoing and keeps a local view built only from
 * what arrives on incoming. Everything it does and sees goes to the history.
 */
import * as Ably from 'ably';
import {
  channelName,
  isChangeName,
  MESSAGE_NAMES,
  oldestShown,
  readBack,
  type ChannelKind,
  type ChatRow,
  type HistoryPage,
} from '../../reference-app/contract/index.ts';
import { VuView } from './vu-view.ts';
import type { Recorder } from './recorder.ts';
import type { OpKind } from '../history/types.ts';
import type { ChatUser } from './user.ts';
import { epochMsMicros } from '../lib/timestamp.ts';

export type VuAuth =
  | { kind: 'key'; key: string }
  /** Sign in at loginUrl with a display name, then fetch TokenRequests from tokenUrl with the cookie. */
  | { kind: 'session'; loginUrl: string; tokenUrl: string };

export interface VirtualUserOptions {
  clientId: string;
  room: string;
  /** Endpoint options for the realtime service (empty for real Ably). */
  realtime: Ably.ClientOptions;
  auth: VuAuth;
  recorder: Recorder;
  /** Load history from the database on join and merge it (late joiners). */
  historyUrl?: string;
  /**
   * The history endpoint to read back from when the incoming channel reattaches without
   * continuity (the web app's catch-up). Without it such a client just carries on.
   */
  catchUpUrl?: string;
  /** Rows per history page when joining (default 100); small pages put more page boundaries under test. */
  historyPageLimit?: number;
  /** Planted defect: apply every event without comparing versions. */
  ignoreVersions?: boolean;
  publishTimeoutMs?: number;
}

interface IncomingData {
  table?: string;
  type?: string;
  row?: Record<string, unknown>;
  position?: unknown;
  /** The connector's own publish time, epoch ms with µs (connector/src/plan.ts ChangeData). */
  publishedAt?: unknown;
}

/** The connector's commit position, when the message carries a well-formed one. */
function positionOf(data: IncomingData | undefined): number[] | undefined {
  const p = data?.position;
  return Array.isArray(p) && p.length > 0 && p.every((x) => typeof x === 'number' && Number.isFinite(x)) ? (p as number[]) : undefined;
}

/** Pages a join reads at most: a virtual user reads the whole room back, as scrolling would. */
const JOIN_MAX_PAGES = 1000;
const JOIN_PAGE = 100;

export class VirtualUser implements ChatUser {
  readonly clientId: string;
  readonly room: string;
  readonly view: VuView;
  /** Posts of this user that the realtime service acknowledged (edit targets). */
  readonly ownPosts: string[] = [];
  readonly deleted = new Set<string>();
  private client?: Ably.Realtime;
  private cookie?: string;
  private joined = false;
  /** When the connection was last lost; continuity is judged at the channel's next attach. */
  private lostAt: number | undefined;
  /** Reattachments of incoming that lost continuity (messages in between were missed). */
  continuityLosses = 0;
  private catchingUp: Promise<void> | undefined;
  readonly catchUpErrors: string[] = [];

  constructor(private readonly opts: VirtualUserOptions) {
    this.clientId = opts.clientId;
    this.room = opts.room;
    this.view = new VuView({ ignoreVersions: opts.ignoreVersions ?? false });
  }

  private channel(kind: ChannelKind): Ably.RealtimeChannel {
    if (!this.client) throw new Error(`${this.clientId} has not joined`);
    return this.client.channels.get(channelName(this.room, kind));
  }

  private async signIn(): Promise<Ably.ClientOptions> {
    const a = this.opts.auth;
    if (a.kind === 'key') return { key: a.key, clientId: this.clientId };
    const res = await fetch(a.loginUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: this.clientId }),
    });
    if (!res.ok) throw new Error(`sign-in of ${this.clientId} failed: HTTP ${res.status} ${await res.text()}`);
    const setCookie = res.headers.getSetCookie();
    this.cookie = setCookie.map((c) => c.split(';')[0]).join('; ');
    const cookie = this.cookie;
    return {
      authCallback: (_params, cb) => {
        fetch(a.tokenUrl, { headers: { cookie } })
          .then(async (r) => {
            if (!r.ok) throw new Error(`token endpoint answered HTTP ${r.status}`);
            cb(null, (await r.json()) as Ably.TokenRequest);
          })
          .catch((err: unknown) => cb(String(err), null));
      },
    };
  }

  private joining: Promise<void> | undefined;

  get isJoined(): boolean {
    return this.joined;
  }

  /** Connects, subscribes to incoming (before loading history, so nothing falls in the gap). */
  join(): Promise<void> {
    this.joining = this.doJoin();
    return this.joining;
  }

  private async doJoin(): Promise<void> {
    const { recorder: rec } = this.opts;
    const opId = `${this.clientId}:join:${Math.round(rec.now())}`;
    rec.record({ t: rec.now(), type: 'invoke', opId, op: 'join', client: this.clientId, room: this.room });
    try {
      const auth = await this.signIn();
      this.client = new Ably.Realtime({ ...this.opts.realtime, ...auth, autoConnect: true });
      const incoming = this.channel('incoming');
      await incoming.subscribe((msg) => this.onIncoming(msg));
      this.joined = true;
      rec.record({ t: rec.now(), type: 'subscribe', client: this.clientId, room: this.room });
      this.watchContinuity(this.client, incoming);
      // Attach outgoing and typing up front so the first publish does not pay for it.
      await Promise.all([this.channel('outgoing').attach(), this.channel('typing').attach()]);
      if (this.opts.historyUrl) await this.loadHistory();
      rec.record({ t: rec.now(), type: 'ack', opId });
    } catch (err) {
      rec.record({ t: rec.now(), type: 'fail', opId, error: errorText(err) });
      throw err;
    }
  }

  /**
   * A connection that could not be resumed comes back as a new one, and the channel reattaches
   * without `resumed`: what was published in between never reaches this client. The history
   * then says it was not subscribed from the moment the connection was lost until the reattach
   * (so the delivery checker owes it nothing from that gap), and, like the web app, the client
   * reads the room back from the database so its view still converges.
   */
  private watchContinuity(client: Ably.Realtime, incoming: Ably.RealtimeChannel): void {
    const rec = this.opts.recorder;
    client.connection.on(['disconnected', 'suspended'], () => {
      this.lostAt ??= rec.now();
    });
    incoming.on(['attached', 'update'], (change) => {
      const lostAt = this.lostAt;
      this.lostAt = undefined;
      if (change.resumed || !this.joined || client !== this.client) return;
      this.continuityLosses++;
      const now = rec.now();
      rec.record({ t: Math.min(lostAt ?? now, now), type: 'unsubscribe', client: this.clientId, room: this.room });
      rec.record({ t: now, type: 'subscribe', client: this.clientId, room: this.room });
      const url = this.opts.catchUpUrl ?? this.opts.historyUrl;
      if (url) this.catchingUp = this.catchUp(url);
    });
  }

  /**
   * Resolves when the client is connected again (or `timeoutMs` passed) and a catch-up from the
   * database after lost continuity has finished: only then does its view mean anything.
   */
  async settled(timeoutMs = 20_000): Promise<void> {
    const c = this.client;
    if (c && this.joined && c.connection.state !== 'connected') {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([c.connection.whenState('connected'), new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
      clearTimeout(timer);
    }
    await this.catchingUp;
  }

  /**
   * The web app's catch-up, through the contract: read the room back past the oldest message
   * shown and reconcile (a message the view held that the covering read lacks was deleted in the gap).
   */
  private async catchUp(url: string): Promise<void> {
    const knownBefore = this.view.knownIds();
    const pages = this.pageReader(url, 'catch-up');
    try {
      const read = await readBack(this.room, oldestShown(this.view.messagesView()), pages);
      this.view.reconcile(read, knownBefore);
    } catch (err) {
      // Kept so the runner can explain a view the convergence checker finds stale.
      this.catchUpErrors.push(errorText(err));
    }
  }

  /** Reads the room's whole history into the view, newest page first, as rows from history. */
  private async loadHistory(base = this.opts.historyUrl): Promise<void> {
    if (!base) return;
    const pages = this.pageReader(base, 'join');
    let before: string | null = null;
    for (let i = 0; i < JOIN_MAX_PAGES; i++) {
      const page = await pages(this.room, { before, limit: this.opts.historyPageLimit ?? JOIN_PAGE });
      for (const row of page.messages) this.view.merge(row, 'history');
      if (!page.next || page.messages.length === 0) return;
      before = page.next;
    }
  }

  private reads = 0;

  /** Fetches the pages of one read, recording each as the history-pages checker needs it. */
  private pageReader(base: string, kind: 'join' | 'catch-up'): (room: string, opts: { before: string | null; limit: number }) => Promise<HistoryPage> {
    const rec = this.opts.recorder;
    // A user who leaves and joins again is a new instance under the same id: the start time keeps its reads apart.
    const read = `${this.clientId}:${kind}:${Math.round(rec.now() * 1000)}:${++this.reads}`;
    let page = 0;
    return async (room, opts) => {
      const sentT = rec.now();
      const got = await this.fetchPage(base, room, opts);
      rec.record({
        t: rec.now(),
        type: 'history-page',
        client: this.clientId,
        room,
        read,
        page: page++,
        sentT,
        limit: opts.limit,
        more: got.next !== null,
        rows: got.messages.map((r) => ({ id: r.id, text: r.text, version: r.version, deleted: r.deleted, author: r.author, createdT: epochMsMicros(r.created_at) - rec.epochMs })),
      });
      return got;
    };
  }

  /** One page of the history endpoint at `base`, with this user's session. */
  private async fetchPage(base: string, room: string, opts: { before: string | null; limit: number }): Promise<HistoryPage> {
    const url = new URL(`${base}/${encodeURIComponent(room)}/messages`);
    url.searchParams.set('limit', String(opts.limit));
    if (opts.before) url.searchParams.set('before', opts.before);
    const res = await fetch(url, this.cookie ? { headers: { cookie: this.cookie } } : {});
    if (!res.ok) throw new Error(`history of ${room} answered HTTP ${res.status}`);
    const body = (await res.json()) as { messages?: unknown[]; next?: unknown };
    const messages = (body.messages ?? []).map(toChatRow).filter((r): r is ChatRow => r !== undefined);
    return { messages, next: typeof body.next === 'string' ? body.next : null };
  }

  private onIncoming(msg: Ably.InboundMessage): void {
    const rec = this.opts.recorder;
    const t = rec.now();
    const name = msg.name ?? '';
    const data = (typeof msg.data === 'string' ? safeJson(msg.data) : msg.data) as IncomingData | undefined;
    const row = toChatRow(data?.row);
    if (!isChangeName(name) || !row) return;
    const applied = this.view.merge(row, name);
    const updatedAt = data?.row?.updated_at;
    const position = positionOf(data);
    // The connector's µs stamp when it sends one; the realtime timestamp has whole milliseconds.
    const publishedAt = typeof data?.publishedAt === 'number' && Number.isFinite(data.publishedAt) ? data.publishedAt : typeof msg.timestamp === 'number' ? msg.timestamp : undefined;
    rec.record({
      t,
      type: 'receive',
      client: this.clientId,
      room: this.room,
      eventId: msg.id ?? '',
      name,
      messageId: row.id,
      version: row.version,
      deleted: row.deleted,
      text: row.text,
      author: row.author,
      ...(typeof updatedAt === 'string' ? { commitT: epochMsMicros(updatedAt) - rec.epochMs } : {}),
      ...(publishedAt !== undefined ? { publishT: publishedAt - rec.epochMs } : {}),
      ...(position ? { position } : {}),
      applied,
    });
  }

  private async publish(op: OpKind, opId: string, name: string, data: unknown, extra: { messageId?: string; text?: string }) {
    const rec = this.opts.recorder;
    rec.record({ t: rec.now(), type: 'invoke', opId, op, client: this.clientId, room: this.room, ...extra });
    try {
      const ch = op === 'typing' ? this.channel('typing') : this.channel('outgoing');
      await withTimeout(ch.publish({ id: opId, name, data }), this.opts.publishTimeoutMs ?? 15_000, 'publish timed out');
      rec.record({ t: rec.now(), type: 'ack', opId });
      return true;
    } catch (err) {
      rec.record({ t: rec.now(), type: 'fail', opId, error: errorText(err) });
      return false;
    }
  }

  /**
   * For hostile probes: a publish that is not a chat operation (nothing recorded here); resolves
   * to the realtime service's answer.
   */
  async attempt(kind: 'outgoing' | 'incoming' | 'typing', msg: { id?: string; name: string; data: unknown }): Promise<{ ok: true } | { ok: false; error: string }> {
    try {
      await withTimeout(this.channel(kind).publish(msg), this.opts.publishTimeoutMs ?? 15_000, 'publish timed out');
      return { ok: true };
    } catch (err) {
      return { ok: false, error: errorText(err) };
    }
  }

  /** A TokenRequest from the token endpoint for this user's session (after join). */
  async tokenRequest(): Promise<Ably.TokenRequest> {
    const a = this.opts.auth;
    if (a.kind !== 'session' || !this.cookie) throw new Error(`${this.clientId} has no session`);
    const r = await fetch(a.tokenUrl, { headers: { cookie: this.cookie } });
    if (!r.ok) throw new Error(`token endpoint answered HTTP ${r.status}`);
    return (await r.json()) as Ably.TokenRequest;
  }

  async post(opId: string, text: string): Promise<boolean> {
    const acked = await this.publish('post', opId, MESSAGE_NAMES.post, { text }, { messageId: opId, text });
    if (acked) this.ownPosts.push(opId);
    return acked;
  }

  async edit(opId: string, target: string, text: string): Promise<void> {
    await this.publish('edit', opId, MESSAGE_NAMES.edit, { id: target, text }, { messageId: target, text });
  }

  async delete(opId: string, target: string): Promise<void> {
    this.deleted.add(target);
    await this.publish('delete', opId, MESSAGE_NAMES.delete, { id: target }, { messageId: target });
  }

  async typing(opId: string): Promise<void> {
    await this.publish('typing', opId, MESSAGE_NAMES.typing, { typing: true }, {});
  }

  /** Closes the client. `asOperation`: a leave in the middle of the run, recorded as an operation. */
  async leave(opts: { asOperation?: boolean } = {}): Promise<void> {
    const rec = this.opts.recorder;
    // A leave during a join waits for it: otherwise the join would open a client nobody closes.
    await this.joining?.catch(() => {});
    if (!this.client) return;
    const opId = `${this.clientId}:leave:${Math.round(rec.now())}`;
    if (opts.asOperation) rec.record({ t: rec.now(), type: 'invoke', opId, op: 'leave', client: this.clientId, room: this.room });
    if (this.joined) rec.record({ t: rec.now(), type: 'unsubscribe', client: this.clientId, room: this.room });
    this.joined = false;
    const client = this.client;
    this.client = undefined;
    await new Promise<void>((resolve) => {
      if (client.connection.state === 'closed' || client.connection.state === 'failed') return resolve();
      client.connection.once('closed', () => resolve());
      client.connection.once('failed', () => resolve());
      client.close();
    });
    if (opts.asOperation) rec.record({ t: rec.now(), type: 'ack', opId });
  }

  recordView(): void {
    const rec = this.opts.recorder;
    rec.record({ t: rec.now(), type: 'view', client: this.clientId, room: this.room, rows: this.view.snapshot() });
  }
}

/** A row as received, leniently: what the checkers judge is what arrived, not a parse error. */
export function toChatRow(value: unknown): ChatRow | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const r = value as Record<string, unknown>;
  if (typeof r.id !== 'string') return undefined;
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  const author = str(r.author);
  return {
    id: r.id,
    room: str(r.room),
    author,
    username: typeof r.username === 'string' ? r.username : author,
    text: str(r.text),
    version: Number(r.version ?? 0),
    edited: r.edited === true,
    deleted: r.deleted === true,
    created_at: str(r.created_at),
    updated_at: str(r.updated_at),
  };
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

export function errorText(err: unknown): string {
  if (err && typeof err === 'object' && 'code' in err) {
    const e = err as { code?: unknown; message?: unknown };
    return `${String(e.code)}: ${String(e.message)}`;
  }
  return err instanceof Error ? err.message : String(err);
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
