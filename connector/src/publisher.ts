/**
 * Publishing through the unmodified ably SDK.
 *
 * Why Realtime and not Rest: one WebSocket carries every publish in call order and the service
 * acknowledges them in that order (msgSerial), so the connector can keep many publishes in flight
 * without ever reordering a channel, with one ack per publish and no HTTP round trip each. Rest
 * would need one request at a time per channel to keep order. Client-supplied message ids (from
 * the outbox position) make a re-send after a crash idempotent either way; on a dropped socket the
 * SDK itself resumes and re-sends unacknowledged messages in order.
 */
import * as Ably from 'ably';
import type { Logger } from 'pino';
import type { RealtimeTarget } from './config.ts';
import type { OutMessage } from './plan.ts';

/** A channel nothing was published on for this long is released. */
const CHANNEL_IDLE_MS = 60_000;

/** Ably's default; the service states its own limit when the connection opens. */
const DEFAULT_MAX_MESSAGE_SIZE = 65536;

/** Longest a publish waits for earlier ones' acks before it is sent anyway. */
const HOLD_MAX_MS = 5;

interface HeldPublish {
  channel: string;
  messages: OutMessage[];
  resolve(): void;
  reject(err: unknown): void;
  at: number;
}

export function ablyClientOptions(t: RealtimeTarget): Ably.ClientOptions {
  const opts: Ably.ClientOptions = { key: t.apiKey, logLevel: 0, echoMessages: false };
  if (!t.host) return opts;
  opts.tls = t.tls;
  // The SDK reads an endpoint without a dot as a routing-policy name, so a bare host name (a
  // container's) goes through the explicit host options instead.
  if (t.host.includes('.') || t.host.includes(':') || t.host === 'localhost') opts.endpoint = t.host;
  else Object.assign(opts, { restHost: t.host, realtimeHost: t.host, fallbackHosts: [] });
  if (t.port !== undefined) {
    if (t.tls) opts.tlsPort = t.port;
    else opts.port = t.port;
  }
  const hostPort = `${t.host.includes(':') && !t.host.startsWith('[') ? `[${t.host}]` : t.host}${t.port !== undefined ? `:${t.port}` : ''}`;
  // Without these the SDK probes Ably's internet-check hosts when a handshake is slow.
  opts.connectivityCheckUrl = t.connectivityCheckUrl ?? `${t.tls ? 'https' : 'http'}://${hostPort}/connectivity-check`;
  opts.wsConnectivityCheckUrl = t.wsConnectivityCheckUrl ?? `${t.tls ? 'wss' : 'ws'}://${hostPort}/ws-connectivity-check`;
  return opts;
}

export interface PublisherHooks {
  onReconnect(): void;
  onStateChange(state: string, reason?: string): void;
}

export class RealtimePublisher {
  readonly client: Ably.Realtime;
  private everConnected = false;
  private corked = false;
  private failedRetries = 0;
  /** Per channel: publishes awaiting an ack, and when it was last used. */
  private readonly channelUse = new Map<string, { inflight: number; lastUsed: number }>();
  private readonly sweeper: NodeJS.Timeout;
  /** Publishes sent and not yet settled, and those held until they are (see publish). */
  private unacked = 0;
  private readonly held: HeldPublish[] = [];
  private holdTimer?: NodeJS.Timeout;

  constructor(
    target: RealtimeTarget,
    retryMs: { min: number; max: number },
    private readonly hooks: PublisherHooks,
    private readonly log: Logger,
    /** A planted defect (see ConnectorOptions); never set in deployments. */
    private readonly defect: 'publish-without-waiting' | 'swap-rows' | undefined = undefined,
    private readonly random: () => number = Math.random,
  ) {
    this.client = new Ably.Realtime({
      ...ablyClientOptions(target),
      // The SDK's defaults (15 s, 30 s) are tuned for browsers; a connector should catch up fast.
      disconnectedRetryTimeout: Math.max(retryMs.min, 500),
      suspendedRetryTimeout: Math.max(retryMs.max, 1000),
    });
    this.client.connection.on((change) => {
      const reason = change.reason ? `${change.reason.code}: ${change.reason.message}` : undefined;
      if (change.current === 'connected') {
        if (this.everConnected) this.hooks.onReconnect();
        this.everConnected = true;
      }
      if (change.current !== change.previous) this.log.info({ state: change.current, reason }, 'realtime connection');
      if (change.current === 'connected') this.failedRetries = 0;
      // The SDK gives up for good in 'failed' (a refused key, say); a connector keeps trying.
      if (change.current === 'failed') {
        const wait = Math.min(retryMs.max, retryMs.min * 2 ** this.failedRetries++);
        this.log.error({ reason, retryInMs: wait }, 'realtime connection failed');
        setTimeout(() => {
          if (this.client.connection.state === 'failed') this.client.connect();
        }, wait).unref();
      }
      this.hooks.onStateChange(change.current, reason);
    });
    // One SDK channel object per room would otherwise accumulate for the life of the process.
    this.sweeper = setInterval(() => this.releaseIdle(CHANNEL_IDLE_MS), CHANNEL_IDLE_MS).unref();
  }

  private releaseIdle(idleMs: number): void {
    const cutoff = Date.now() - idleMs;
    for (const [name, u] of this.channelUse) {
      if (u.inflight > 0 || u.lastUsed > cutoff) continue;
      this.channelUse.delete(name);
      try {
        this.client.channels.release(name);
      } catch {
        /* the SDK refuses while it still needs it; next sweep */
      }
    }
  }

  get state(): string {
    return this.client.connection.state;
  }

  /** Resolves once connected (the service's message size limit is known from then on). */
  async connected(timeoutMs: number): Promise<void> {
    if (this.client.connection.state === 'connected') return;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.client.connection.once('connected'),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`realtime: not connected after ${timeoutMs} ms (state ${this.client.connection.state}${this.reason()})`)), timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  private reason(): string {
    const r = this.client.connection.errorReason;
    return r ? `: ${r.code} ${r.message}` : '';
  }

  maxMessageSize(): number {
    // Set by the SDK from the CONNECTED message's connectionDetails; not part of the typed API.
    const opts = (this.client as unknown as { options?: { maxMessageSize?: number } }).options;
    return opts?.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
  }

  private get withoutWaiting(): boolean {
    return this.defect === 'publish-without-waiting';
  }

  /**
   * Ack-clocked, as TCP's Nagle algorithm: while earlier publishes await their ack, new ones wait
   * (in call order) and then leave together, in one socket write. With nothing in flight a
   * publish leaves at once, with no timer: an idle connector adds no wait. Under load each write
   * carries what gathered meanwhile, instead of one write (and one read on every hop after it)
   * per change: on loopback the write costs far more than the frame. HOLD_MAX_MS bounds the wait
   * should an ack be slow to come.
   */
  publish(channel: string, messages: OutMessage[]): Promise<void> {
    if (this.withoutWaiting) return this.send(channel, messages);
    return new Promise<void>((resolve, reject) => {
      this.held.push({ channel, messages, resolve, reject, at: performance.now() });
      this.releaseIfDue();
    });
  }

  private releaseIfDue(): void {
    const first = this.held[0];
    if (!first) return;
    const now = performance.now();
    // The swap-rows defect always holds, so that there are neighbours to swap.
    if ((this.unacked === 0 && this.defect !== 'swap-rows') || now >= first.at + HOLD_MAX_MS) {
      clearTimeout(this.holdTimer);
      this.holdTimer = undefined;
      const jobs = this.held.splice(0);
      if (this.defect === 'swap-rows') swapNeighbours(jobs);
      for (const job of jobs) this.sendHeld(job);
      return;
    }
    // Only reached with publishes in flight (or the defect): their acks release the rest sooner.
    this.holdTimer ??= setTimeout(() => {
      this.holdTimer = undefined;
      this.releaseIfDue();
    }, Math.max(0, Math.ceil(first.at + HOLD_MAX_MS - now)));
  }

  private sendHeld(job: HeldPublish): void {
    this.unacked++;
    this.send(job.channel, job.messages)
      .then(job.resolve, job.reject)
      .finally(() => {
        this.unacked--;
        this.releaseIfDue();
      });
  }

  private async send(channel: string, messages: OutMessage[]): Promise<void> {
    this.corkForThisTick();
    const use = this.channelUse.get(channel) ?? { inflight: 0, lastUsed: 0 };
    this.channelUse.set(channel, use);
    use.inflight++;
    use.lastUsed = Date.now();
    try {
      // Each change takes its own REST round trip (5-100 ms over the internet), so a later change can overtake an earlier one.
      if (this.withoutWaiting) await new Promise((r) => setTimeout(r, 5 + this.random() * 95));
      const ch = this.client.channels.get(channel);
      const stamped = stampPublishTime(messages);
      await (stamped.length === 1 ? ch.publish(stamped[0]!) : ch.publish(stamped));
    } finally {
      use.inflight--;
    }
  }

  /**
   * Publishes issued in one event-loop turn (a burst of notifications, a read of the outbox) leave
   * in one socket write instead of one each: on loopback a write costs far more than the frame.
   * Reaches the WebSocket's TCP socket through SDK internals that are not part of its API; when
   * they are not where expected this does nothing, and publishing is unchanged either way.
   */
  private corkForThisTick(): void {
    if (this.corked) return;
    let socket: { cork(): void; uncork(): void; destroyed?: boolean } | undefined;
    try {
      const cm = (this.client.connection as unknown as { connectionManager?: { activeProtocol?: { getTransport?(): { wsConnection?: { _socket?: unknown } } } } }).connectionManager;
      const candidate = cm?.activeProtocol?.getTransport?.()?.wsConnection?._socket as typeof socket;
      if (candidate && typeof candidate.cork === 'function' && typeof candidate.uncork === 'function' && !candidate.destroyed) socket = candidate;
    } catch {
      socket = undefined;
    }
    if (!socket) return;
    this.corked = true;
    socket.cork();
    // After the SDK's own promise steps for these publishes have written their frames.
    setImmediate(() => {
      this.corked = false;
      socket.uncork();
    });
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    clearTimeout(this.holdTimer);
    for (const job of this.held.splice(0)) this.sendHeld(job);
    const conn = this.client.connection;
    if (conn.state === 'closed' || conn.state === 'failed') return;
    const closed = conn.once('closed');
    this.client.close();
    await Promise.race([closed, new Promise((r) => setTimeout(r, 2000).unref())]);
  }
}

/** The messages with this moment as their publish time (see ChangeData.publishedAt), on the clock the harness records on. */
export function stampPublishTime(messages: readonly OutMessage[]): OutMessage[] {
  const publishedAt = Math.round((performance.timeOrigin + performance.now()) * 1000) / 1000;
  return messages.map((m) => ({ ...m, data: { ...m.data, publishedAt } }));
}

/**
 * The planted defect 'swap-rows': two neighbouring publishes on one channel about different rows
 * leave in each other's place, so a channel's changes no longer follow the commit order, though
 * each row's versions still do.
 */
function swapNeighbours(jobs: HeldPublish[]): void {
  const rowOf = (j: HeldPublish) => j.messages[0]?.data.row.id;
  for (let i = 0; i + 1 < jobs.length; i++) {
    const a = jobs[i]!;
    const b = jobs[i + 1]!;
    if (a.channel !== b.channel || rowOf(a) === rowOf(b)) continue;
    jobs[i] = b;
    jobs[i + 1] = a;
    i++;
  }
}
