/**
 * The small HTTP server that hosts the HTTP functions locally (sign-in, token, history, and the
 * realtime settings the web app needs), turning node requests into API Gateway events, so the
 * handlers run here exactly as they would behind API Gateway on AWS.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as Ably from 'ably';
import pg from 'pg';
import { createHistoryHandler } from './history.ts';
import { createRejectionsHandler } from './rejections.ts';
import { createRoomsHandler } from './rooms.ts';
import { fail, json, type HttpEvent, type HttpHandler, type HttpResult } from './http.ts';
import { retentionMsFromEnv, startRetention, type Purged } from './retention.ts';
import { ablyRevoker, createSession } from './session.ts';
import { createTokenHandler } from './token.ts';

export interface FunctionsServerOptions {
  databaseUrl: string;
  ablyKey: string;
  /** Served at GET /api/config so a browser knows where the realtime service is. */
  realtimeClientOptions?: Record<string, unknown>;
  sessionSecret?: string;
  port?: number;
  host?: string;
  tokenTtlMs?: number;
  /** Planted defect for the harness's self-check (see token.ts). */
  tokenFullCapability?: boolean;
  /** How long refused writes, rejected or held ops and expired sessions are kept (default CHAT_RETENTION_MS, else 24 h). */
  retentionMs?: number;
  /** How often they are purged after the purge on start (default: the retention, at most 1 h). */
  retentionIntervalMs?: number;
  onPurged?: (p: Purged) => void;
  /** Extra routes (the web app mounts itself here later); tried after the API routes. */
  fallback?: (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;
}

export interface StartedFunctionsServer {
  url: string;
  tokenUrl: string;
  /** Base for `${historyUrl}/${room}/messages`. */
  historyUrl: string;
  loginUrl: string;
  stop(): Promise<void>;
}

const MAX_BODY = 16 * 1024;

export async function startFunctionsServer(opts: FunctionsServerOptions): Promise<StartedFunctionsServer> {
  const pool = new pg.Pool({ connectionString: opts.databaseUrl, max: 5 });
  pool.on('error', () => {}); // an idle connection lost to a Postgres restart is replaced on next use
  // The realtime service this server's tokens are for: logout revokes the user's tokens there.
  const revokeTokens = opts.realtimeClientOptions ? ablyRevoker(new Ably.Rest({ ...(opts.realtimeClientOptions as Ably.ClientOptions), key: opts.ablyKey })) : undefined;
  const session = createSession({ pool, secret: opts.sessionSecret ?? randomBytes(32).toString('hex'), ...(revokeTokens ? { revokeTokens } : {}) });
  const token = createTokenHandler({ ablyKey: opts.ablyKey, session, ...(opts.tokenTtlMs ? { ttlMs: opts.tokenTtlMs } : {}), ...(opts.tokenFullCapability ? { fullCapability: true } : {}) });
  const history = createHistoryHandler({ pool, session });
  const rejections = createRejectionsHandler({ pool, session });
  const rooms = createRoomsHandler({ pool, session });
  const retention = await startRetention({
    pool,
    retentionMs: opts.retentionMs ?? retentionMsFromEnv(),
    ...(opts.retentionIntervalMs ? { intervalMs: opts.retentionIntervalMs } : {}),
    ...(opts.onPurged ? { onPurged: opts.onPurged } : {}),
    // A purge that fails (database down) is retried at the next interval; nothing else depends on it.
    onError: (err) => process.stderr.write(`functions: retention purge failed: ${err instanceof Error ? err.message : String(err)}\n`),
  });
  const config: HttpHandler = async () => json(200, { realtime: opts.realtimeClientOptions ?? {} });

  const route = (method: string, path: string): HttpHandler | undefined => {
    if (path === '/api/login') return session.login;
    if (path === '/api/logout') return session.logout;
    if (path === '/api/me') return session.me;
    if (path === '/api/token') return token;
    if (path === '/api/config') return config;
    if (path === '/api/rejections') return rejections;
    if (path === '/api/rooms' || path === '/api/rooms/') return rooms;
    if (/^\/api\/rooms\/[^/]+\/messages\/?$/.test(path)) return history;
    if (method === 'GET' && path === '/health') return async () => json(200, { ok: true });
    return undefined;
  };

  const server = createServer((req, res) => {
    void serve(req, res).catch(() => {
      if (!res.headersSent) send(res, fail(500, 'server', 'internal error'));
      else res.end();
    });
  });

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://local');
    const handler = route(req.method ?? 'GET', url.pathname);
    if (!handler) {
      if (opts.fallback && (await opts.fallback(req, res))) return;
      return send(res, fail(404, 'path', `no route for ${req.method} ${url.pathname}`));
    }
    const body = await readBody(req);
    if (body === null) return send(res, fail(413, 'body', `expected at most ${MAX_BODY} bytes`));
    send(res, await handler(toEvent(req, url, body)));
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${opts.host ?? '127.0.0.1'}:${port}`;
  let stopped = false;
  return {
    url,
    tokenUrl: `${url}/api/token`,
    historyUrl: `${url}/api/rooms`,
    loginUrl: `${url}/api/login`,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await retention.stop();
      await pool.end();
    },
  };
}

function toEvent(req: IncomingMessage, url: URL, body: string): HttpEvent {
  const headers: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = v;
  return {
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    queryStringParameters: query,
    cookies: (headers.cookie ?? '').split(';').map((c) => c.trim()).filter(Boolean),
    body,
    isBase64Encoded: false,
    requestContext: { http: { method: req.method ?? 'GET' } },
  };
}

function readBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () => resolve(size > MAX_BODY ? null : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, r: HttpResult): void {
  const headers: Record<string, string | string[]> = { ...(r.headers ?? {}) };
  if (r.cookies?.length) headers['set-cookie'] = r.cookies;
  const body = r.body ?? '';
  headers['content-length'] = String(Buffer.byteLength(body));
  res.writeHead(r.statusCode, headers);
  res.end(body);
}
