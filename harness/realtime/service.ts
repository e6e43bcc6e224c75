/**
 * RealtimeService: the builder that starts the HTTP + WebSocket server on one port and hands
 * back a started handle (endpoints, client options, hooks, nemesis controls, metrics, stop).
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { pino, type Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import { z } from 'zod';
import { registerCleanup } from '../lib/cleanup.ts';
import { apiKeyString, generateKey, KeyStore, realtimeKeySchema, type RealtimeKey } from './auth/keys.ts';
import { Connection, maxFrameSize } from './connection.ts';
import { RealtimeCore, type PublishedMessage } from './core.ts';
import { CometServer } from './comet-http.ts';
import { REALTIME_PLANTED_DEFECTS, type RealtimePlantedDefect } from './planted-defects.ts';
import { acceptRealtime } from './handshake.ts';
import { CONNECTIVITY_PATH, WS_CONNECTIVITY_PATH } from './http/admin.ts';
import { httpHandler } from './http/router.ts';
import { SandboxApps } from './http/sandbox.ts';
import { limitsSchema, type LimitsInput } from './limits.ts';
import { createRegistry } from './metrics.ts';

export interface RealtimeServiceOptions {
  host?: string;
  port?: number;
  keys?: RealtimeKey[];
  maxMessageSize?: number;
  connectionStateTtlMs?: number;
  maxIdleIntervalMs?: number;
  logger?: Logger;
  /** How long a dropped connection's presence members stay before they leave (Ably: 15 s). */
  presenceLeaveGraceMs?: number;
  /** How long messages stay for history, rewind and resume (Ably's default without persistence: 2 min). */
  historyTtlMs?: number;
  /** Per-channel cap on retained published messages (protocol messages). */
  historyMaxRecords?: number;
  /** Per-channel cap on the bytes of retained history (message size as Ably counts it, plus ids); the oldest go first. */
  historyMaxBytes?: number;
  /** How long a message id is remembered for idempotent publishing. */
  idempotencyWindowMs?: number;
  /** Serve Ably's sandbox provisioning API (`POST /apps`, `DELETE /apps/:id`), for ably-js's own test suite. */
  sandbox?: boolean;
  /** Ably's per-app rate limits (defaults: a standard account's). */
  limits?: LimitsInput;
  /** A defect planted on purpose, for the harness's self-check only: the service is broken while it is set. */
  plantedDefect?: RealtimePlantedDefect;
}

export interface StartedRealtime {
  host: string;
  port: number;
  tls: false;
  /** First key, "appId.keyId:secret" */
  apiKey: string;
  keys: RealtimeKey[];
  /** Options for `new Ably.Realtime/Rest({...clientOptions(), key|authUrl|authCallback})` */
  clientOptions(): { endpoint: string; port: number; tls: false; connectivityCheckUrl: string; wsConnectivityCheckUrl: string; [k: string]: unknown };
  /** Called synchronously, in publish order per channel, for every message accepted on a channel whose name matches. Returns an unsubscribe function. */
  onChannelMessage(pattern: RegExp, handler: (msg: PublishedMessage) => void): () => void;
  admin: {
    dropConnections(fraction?: number, seed?: number, tokenOnly?: boolean): number;
    pauseDelivery(): void;
    resumeDelivery(): void;
    setDelay(ms: number): void;
    /**
     * Restarts the service as its process would restart: every socket cut, all in-memory state
     * lost (no connection can resume, channel storage is gone), the port closed for `downMs`, then
     * listening again on the same port. Resolves once it listens again.
     */
    restart(downMs?: number): Promise<{ connectionsLost: number }>;
    /** The first half of a restart: down, port closed, until `comeUp()`. */
    goDown(): Promise<{ connectionsLost: number }>;
    comeUp(): Promise<void>;
    liveConnections(): number;
  };
  metricsText(): Promise<string>;
  stop(): Promise<void>;
}

const ms = z.number().int().min(1);
const optionsSchema = z.object({
  host: z.string().min(1).default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(0),
  keys: z.array(realtimeKeySchema).min(1).optional(),
  maxMessageSize: z.number().int().min(16).max(16 << 20).default(65536),
  connectionStateTtlMs: ms.default(120_000),
  maxIdleIntervalMs: ms.default(15_000),
  presenceLeaveGraceMs: z.number().int().min(0).default(15_000),
  historyTtlMs: ms.default(120_000),
  historyMaxRecords: ms.default(50_000),
  historyMaxBytes: z.number().int().min(1024).default(8 << 20),
  idempotencyWindowMs: ms.default(120_000),
  sandbox: z.boolean().default(false),
  limits: limitsSchema.prefault({}),
  plantedDefect: z.enum(REALTIME_PLANTED_DEFECTS).optional(),
});

export class RealtimeService {
  constructor(private readonly opts: RealtimeServiceOptions = {}) {}

  async start(): Promise<StartedRealtime> {
    const { logger, ...rest } = this.opts;
    const parsed = optionsSchema.safeParse(rest);
    if (!parsed.success) {
      const i = parsed.error.issues[0];
      throw new Error(`invalid realtime option ${i?.path.join('.')}: ${i?.message}`);
    }
    const o = parsed.data;
    // The default key allows revokeTokens (an Ably key setting), so an app's logout can withdraw its tokens.
    const keys: RealtimeKey[] = o.keys ?? [{ ...generateKey(), revocableTokens: true }];
    const log = logger ?? pino({ level: 'silent' });
    const core = new RealtimeCore(new KeyStore(keys), { ...o, logger: log });
    if (o.plantedDefect) log.warn({ plantedDefect: o.plantedDefect }, 'PLANTED DEFECT active: this realtime service is broken on purpose');
    const registry = createRegistry(core.stats, { connections: () => core.liveConnections(), channels: () => core.channels.size, historyBytes: () => core.historyBytes() });
    const metricsText = () => registry.metrics();

    const wss = new WebSocketServer({ noServer: true, maxPayload: maxFrameSize(o.maxMessageSize), perMessageDeflate: false });
    const probes = new Set<WebSocket>();
    const restApi = httpHandler(core, metricsText, apiKeyString(keys[0]!), o.sandbox ? new SandboxApps() : undefined);
    // Comet's polls end within maxIdleInterval, so the client sees activity as it would heartbeats.
    const comet = new CometServer(core, { pollMs: o.maxIdleIntervalMs, absentMs: o.maxIdleIntervalMs, maxBodyBytes: 16 * maxFrameSize(o.maxMessageSize) });
    const server = createServer((req, res) => {
      if (!comet.handle(req, res)) restApi(req, res);
    });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const url = new URL(req.url ?? '/', 'http://local');
      if (url.pathname === '/') wss.handleUpgrade(req, socket, head, (ws) => acceptRealtime(core, ws, url));
      else if (url.pathname === WS_CONNECTIVITY_PATH)
        wss.handleUpgrade(req, socket, head, (ws) => {
          probes.add(ws);
          ws.on('close', () => probes.delete(ws));
        });
      else socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    });
    server.on('clientError', (_err, socket) => socket.destroy());
    // Node closes an idle keep-alive socket after 5 s, the moment an SDK renewing a 5 s token
    // reuses it for requestToken: the renewal fails with ECONNRESET and the client drops out.
    // Idle sockets live longer here than clients keep them, as behind Ably's load balancers.
    server.keepAliveTimeout = 65_000;

    const listen = (onPort: number) =>
      new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(onPort, o.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
    await listen(o.port);
    const addr = server.address();
    const port = typeof addr === 'object' && addr ? addr.port : o.port;
    let stopped: Promise<void> | undefined;
    let down: Promise<{ connectionsLost: number }> | undefined;
    const goDown = () =>
      (down ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        const connectionsLost = core.crash();
        comet.stop();
        for (const ws of [...wss.clients, ...probes]) ws.terminate();
        server.closeAllConnections();
        await closed;
        log.info({ port }, 'realtime service down');
        return { connectionsLost };
      })());
    const comeUp = async () => {
      if (!down || stopped) return;
      await down;
      await listen(port);
      down = undefined;
      log.info({ port }, 'realtime service listening again');
    };
    const restart = async (downMs = 0) => {
      const r = await goDown();
      if (downMs > 0) await new Promise((res) => setTimeout(res, downMs));
      await comeUp();
      return r;
    };
    const keepAlive = setInterval(() => {
      const now = Date.now();
      for (const c of core.connections.values()) if (c instanceof Connection) c.keepAlive(now);
    }, Math.max(250, Math.floor(o.maxIdleIntervalMs / 4)));
    keepAlive.unref();

    const stop = () =>
      (stopped ??= (async () => {
        await down?.catch(() => undefined);
        unregister();
        clearInterval(keepAlive);
        core.stop();
        comet.stop();
        for (const ws of [...wss.clients, ...probes]) ws.terminate();
        wss.close();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        log.info({ port }, 'realtime service stopped');
      })());
    const unregister = registerCleanup({ name: `realtime :${port}`, stop, stopSync: () => server.close() });

    // Clients cannot reach a wildcard address; point them at loopback instead.
    const clientHost = o.host === '0.0.0.0' || o.host === '::' ? '127.0.0.1' : o.host;
    const httpBase = `http://${clientHost.includes(':') ? `[${clientHost}]` : clientHost}:${port}`;
    log.info({ host: o.host, port }, 'realtime service listening');
    return {
      host: clientHost,
      port,
      tls: false,
      apiKey: apiKeyString(keys[0]!),
      keys,
      clientOptions: () => ({
        endpoint: clientHost,
        port,
        tls: false,
        connectivityCheckUrl: `${httpBase}${CONNECTIVITY_PATH}`,
        wsConnectivityCheckUrl: `${httpBase.replace(/^http/, 'ws')}${WS_CONNECTIVITY_PATH}`,
      }),
      onChannelMessage: (pattern, handler) => core.onChannelMessage(pattern, handler),
      admin: {
        dropConnections: (fraction, seed, tokenOnly) => core.dropConnections(fraction, seed, tokenOnly),
        pauseDelivery: () => core.outbox.pause(),
        resumeDelivery: () => core.outbox.resume(),
        setDelay: (delayMs) => core.outbox.setDelay(delayMs),
        restart,
        goDown,
        comeUp,
        liveConnections: () => core.liveConnections(),
      },
      metricsText,
      stop,
    };
  }
}
