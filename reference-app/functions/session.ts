/**
 * Demo sign-in: a display name, bound to the Ably clientId by a signed, HttpOnly session cookie.
 * No passwords: anyone may take any free-form name. That is a demo choice, not an auth system.
 *
 * AWS entry: `handler` (POST /api/login, POST /api/logout), configured by SESSION_SECRET.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { bodyText, fail, json, readCookies, type HttpEvent, type HttpHandler, type HttpResult } from './http.ts';

export const SESSION_COOKIE = 'chat_session';
const NAME_MAX = 32;
const NAME_CHARS = /^[\p{L}\p{N}_.\- ]+$/u;
const DEFAULT_MAX_AGE_S = 12 * 3600;

export interface SessionOptions {
  secret: string;
  maxAgeS?: number;
  /** Add the Secure attribute (on for HTTPS deployments; off for the loopback server). */
  secure?: boolean;
}

export interface Session {
  clientId: string;
  expiresAt: number;
}

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
  const sign = (payload: string) => createHmac('sha256', opts.secret).update(payload).digest('base64url');
  const attrs = (maxAge: number) => `Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${opts.secure ? '; Secure' : ''}`;

  const issue = (clientId: string): string => {
    const payload = Buffer.from(JSON.stringify({ sub: clientId, exp: Date.now() + maxAgeS * 1000 })).toString('base64url');
    return `${SESSION_COOKIE}=${payload}.${sign(payload)}; ${attrs(maxAgeS)}`;
  };

  const read = (event: HttpEvent): Session | null => {
    const value = readCookies(event).get(SESSION_COOKIE);
    if (!value) return null;
    const [payload, mac] = value.split('.');
    if (!payload || !mac) return null;
    const expected = Buffer.from(sign(payload));
    const given = Buffer.from(mac);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
    try {
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { sub?: unknown; exp?: unknown };
      if (typeof claims.sub !== 'string' || typeof claims.exp !== 'number' || claims.exp < Date.now()) return null;
      return { clientId: claims.sub, expiresAt: claims.exp };
    } catch {
      return null;
    }
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
    return json(200, { clientId: n.name }, { cookies: [issue(n.name)] });
  };

  const logout: HttpHandler = async () => json(200, { ok: true }, { cookies: [`${SESSION_COOKIE}=; ${attrs(0)}`] });

  const me: HttpHandler = async (event): Promise<HttpResult> => {
    const s = read(event);
    return s ? json(200, { clientId: s.clientId }) : fail(401, 'cookie', `expected a valid ${SESSION_COOKIE} cookie; sign in at /api/login`);
  };

  return { login, logout, me, read };
}

export type SessionService = ReturnType<typeof createSession>;

let shared: SessionService | undefined;

export function sessionFromEnv(env: NodeJS.ProcessEnv = process.env): SessionService {
  if (!shared) {
    const secret = env.SESSION_SECRET;
    if (!secret) throw new Error('SESSION_SECRET is not set');
    shared = createSession({ secret, secure: env.SESSION_COOKIE_SECURE !== 'false' });
  }
  return shared;
}

/** AWS Lambda entry point (API Gateway HTTP API routes POST /api/login and POST /api/logout). */
export const handler: HttpHandler = async (event) => {
  const s = sessionFromEnv();
  return event.rawPath.endsWith('/logout') ? s.logout(event) : s.login(event);
};
