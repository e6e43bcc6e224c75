/**
 * Demo sign-in: a display name, bound to the Ably clientId by a server-side session whose id
 * travels in an HttpOnly cookie. No passwords: anyone may take any free-form name. That is a demo
 * choice, not an auth system. The session lives in Postgres (chat_sessions), so logout ends it for
 * every copy of the cookie, and any Lambda instance can check it.
 *
 * AWS entry: `handler` (POST /api/login, POST /api/logout), configured by DATABASE_URL and
 * SESSION_SECRET.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type * as Ably from 'ably';
import * as AblySdk from 'ably';
import pg from 'pg';
import { bodyText, fail, json, readCookies, type HttpEvent, type HttpHandler, type HttpResult } from './http.ts';

export const SESSION_COOKIE = 'chat_session';
const NAME_MAX = 32;
const NAME_CHARS = /^[\p{L}\p{N}_.\- ]+$/u;
const DEFAULT_MAX_AGE_S = 12 * 3600;

export interface SessionOptions {
  pool: pg.Pool;
  /** Signs the session id in the cookie, so a forged cookie is refused without a database read. */
  secret: string;
  maxAgeS?: number;
  /** Add the Secure attribute (on for HTTPS deployments; off for the loopback server). */
  secure?: boolean;
  /**
   * Withdraws the realtime tokens issued to a client that logs out (Ably's revokeTokens). Without
   * it, or when it fails, a token outlives its logout by at most its TTL.
   */
  revokeTokens?: (clientId: string) => Promise<void>;
}

export interface Session {
  clientId: string;
  expiresAt: number;
}

/** The 401 every handler that needs a session answers. */
export const noSession = (): HttpResult => fail(401, 'cookie', `expected a valid ${SESSION_COOKIE} cookie; sign in at /api/login`);

/** Trims, joins runs of whitespace and applies NFC, so that one person's name is one clientId. */
export function normalizeName(raw: unknown): { ok: true; name: string } | { ok: false; message: string } {
  if (typeof raw !== 'string') return { ok: false, message: 'expected a string' };
  const name = raw.normalize('NFC').trim().replace(/\s+/g, ' ');
  if (name.length === 0) return { ok: false, message: 'expected a non-empty name' };
  if ([...name].length > NAME_MAX) return { ok: false, message: `expected at most ${NAME_MAX} characters` };
  if (!NAME_CHARS.test(name)) return { ok: false, message: 'expected letters, digits, spaces, "_", "-" or "."' };
  return { ok: true, name };
}

export function createSession(opts: SessionOptions) {
  if (opts.secret.length < 16) throw new Error('session secret: expected at least 16 characters');
  const maxAgeS = opts.maxAgeS ?? DEFAULT_MAX_AGE_S;
  const sign = (sid: string) => createHmac('sha256', opts.secret).update(sid).digest('base64url');
  const hash = (sid: string) => createHash('sha256').update(sid).digest();
  const attrs = (maxAge: number) => `Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${opts.secure ? '; Secure' : ''}`;

  /** The session id of a cookie whose signature holds, else null. */
  const sessionId = (event: HttpEvent): string | null => {
    const value = readCookies(event).get(SESSION_COOKIE);
    const [sid, mac] = value?.split('.') ?? [];
    if (!sid || !mac) return null;
    const expected = Buffer.from(sign(sid));
    const given = Buffer.from(mac);
    return expected.length === given.length && timingSafeEqual(expected, given) ? sid : null;
  };

  const read = async (event: HttpEvent): Promise<Session | null> => {
    const sid = sessionId(event);
    if (!sid) return null;
    const res = await opts.pool.query<{ client_id: string; expires_ms: string }>(
      `SELECT client_id, (extract(epoch FROM expires_at) * 1000)::bigint::text AS expires_ms
       FROM chat_sessions WHERE id_hash = $1 AND expires_at > clock_timestamp()`,
      [hash(sid)],
    );
    const row = res.rows[0];
    return row ? { clientId: row.client_id, expiresAt: Number(row.expires_ms) } : null;
  };

  const login: HttpHandler = async (event) => {
    if (event.requestContext.http.method !== 'POST') return fail(405, 'method', 'expected POST');
    let body: unknown;
    try {
      body = JSON.parse(bodyText(event) || '{}');
    } catch {
      return fail(400, 'body', 'expected a JSON object {"name": "..."}');
    }
    const n = normalizeName((body as { name?: unknown } | null)?.name);
    if (!n.ok) return fail(400, 'name', n.message);
    const sid = randomBytes(24).toString('base64url');
    await opts.pool.query(
      `INSERT INTO chat_sessions (id_hash, client_id, expires_at) VALUES ($1, $2, clock_timestamp() + make_interval(secs => $3))`,
      [hash(sid), n.name, maxAgeS],
    );
    return json(200, { clientId: n.name }, { cookies: [`${SESSION_COOKIE}=${sid}.${sign(sid)}; ${attrs(maxAgeS)}`] });
  };

  /** Ends the session server-side, so every copy of its cookie stops working, and clears the cookie. */
  const logout: HttpHandler = async (event) => {
    if (event.requestContext.http.method !== 'POST') return fail(405, 'method', 'expected POST');
    const sid = sessionId(event);
    const gone = sid ? (await opts.pool.query<{ client_id: string }>('DELETE FROM chat_sessions WHERE id_hash = $1 RETURNING client_id', [hash(sid)])).rows[0] : undefined;
    const tokensRevoked = gone && opts.revokeTokens ? await revoke(opts.revokeTokens, gone.client_id) : false;
    return json(200, { ok: true, ended: gone !== undefined, tokensRevoked }, { cookies: [`${SESSION_COOKIE}=; ${attrs(0)}`] });
  };

  const me: HttpHandler = async (event): Promise<HttpResult> => {
    const s = await read(event);
    return s ? json(200, { clientId: s.clientId }) : noSession();
  };

  return { login, logout, me, read };
}

/** The session is gone whatever happens here: a revocation that fails leaves tokens to expire. */
async function revoke(revokeTokens: (clientId: string) => Promise<void>, clientId: string): Promise<boolean> {
  try {
    await revokeTokens(clientId);
    return true;
  } catch (err) {
    process.stderr.write(`session: logout of ${JSON.stringify(clientId)}: tokens not revoked (${err instanceof Error ? err.message : String(err)}); they expire within their TTL\n`);
    return false;
  }
}

/** revokeTokens through Ably's REST API: every token of the clientId issued until now. */
export function ablyRevoker(rest: Ably.Rest) {
  return async (clientId: string): Promise<void> => {
    const r = await rest.auth.revokeTokens([{ type: 'clientId', value: clientId }]);
    const failed = r.results.find((x) => 'error' in x);
    if (failed && 'error' in failed) throw new Error(`${failed.error.code} ${failed.error.message}`);
  };
}

export type SessionService = ReturnType<typeof createSession>;

let shared: SessionService | undefined;

/** For the AWS entry points: one session service (and pool) per warm container. */
export function sessionFromEnv(env: NodeJS.ProcessEnv = process.env): SessionService {
  if (!shared) {
    const secret = env.SESSION_SECRET;
    if (!secret) throw new Error('SESSION_SECRET is not set');
    const databaseUrl = env.DATABASE_URL;
    if (!databaseUrl) throw new Error('DATABASE_URL is not set');
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
    pool.on('error', () => {});
    // With the Ably key (a key with revocable tokens enabled), logout withdraws the user's tokens too.
    const revokeTokens = env.ABLY_API_KEY ? ablyRevoker(new AblySdk.Rest({ key: env.ABLY_API_KEY })) : undefined;
    shared = createSession({ pool, secret, secure: env.SESSION_COOKIE_SECURE !== 'false', ...(revokeTokens ? { revokeTokens } : {}) });
  }
  return shared;
}

/** AWS Lambda entry point (API Gateway HTTP API routes POST /api/login and POST /api/logout). */
export const handler: HttpHandler = async (event) => {
  const s = sessionFromEnv();
  return event.rawPath.endsWith('/logout') ? s.logout(event) : s.login(event);
};
