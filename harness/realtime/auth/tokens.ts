/**
 * Authentication as Ably does it: basic auth with a key, TokenRequests signed with the key's
 * secret (HMAC-SHA256 over keyName, ttl, capability, clientId, timestamp, nonce), and tokens.
 * Tokens are self-contained (payload + HMAC with the key's secret), so nothing is stored per token.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { AblyError, Errors } from '../protocol/errors.ts';
import { type Capability, canonicalCapability, intersect, parseCapability } from './capability.ts';
import { isJwt, verifyJwt } from './jwt.ts';
import type { KeyStore } from './keys.ts';
import { Revocations } from './revocation.ts';

export interface Identity {
  method: 'basic' | 'token';
  keyName: string;
  capability: Capability;
  /** The identity's own clientId ('*' never appears here: see `wildcard`). */
  clientId?: string;
  /** True when the credentials may act as any clientId (a key, or a token for '*'). */
  wildcard: boolean;
  expires?: number;
  /** When the token was issued (tokens only): revocations apply to tokens issued before a time. */
  issued?: number;
  /** A JWT's `x-ably-revocation-key`: `revokeTokens` can target it. */
  revocationKey?: string;
}

export interface TokenDetailsWire {
  token: string;
  keyName: string;
  issued: number;
  expires: number;
  capability: string;
  clientId?: string;
}

const DEFAULT_TTL_MS = 60 * 60 * 1000;
const MAX_TTL_MS = 24 * 60 * 60 * 1000;
/** How far a TokenRequest's timestamp may be from the server clock. */
const TIMESTAMP_WINDOW_MS = 10 * 60 * 1000;

const tokenRequestSchema = z.object({
  keyName: z.string().min(1),
  ttl: z.union([z.number(), z.string()]).nullish(),
  capability: z.union([z.string(), z.record(z.string(), z.array(z.string()))]).nullish(),
  clientId: z.string().nullish(),
  timestamp: z.union([z.number(), z.string()]).nullish(),
  nonce: z.string().nullish(),
  mac: z.string().nullish(),
});

const tokenPayloadSchema = z.object({ k: z.string(), i: z.number(), x: z.number(), c: z.string(), id: z.string().optional(), n: z.string() });

const hmac = (secret: string, text: string) => createHmac('sha256', secret).update(text, 'utf8').digest();

export class Authenticator {
  private readonly nonces = new Map<string, number>();
  readonly revocations: Revocations;

  constructor(
    private readonly keys: KeyStore,
    private readonly now: () => number = Date.now,
  ) {
    this.revocations = new Revocations(now);
  }

  /** Basic auth with "keyName:secret". */
  basic(apiKey: string): Identity {
    const i = apiKey.indexOf(':');
    const keyName = i < 0 ? apiKey : apiKey.slice(0, i);
    const entry = this.keys.get(keyName);
    if (!entry) throw Errors.invalidCredentials(`Invalid key: no key named "${keyName}"`);
    if (!safeEqual(Buffer.from(apiKey.slice(i + 1)), Buffer.from(entry.key.secret))) throw Errors.invalidCredentials('Invalid credentials: wrong key secret');
    return { method: 'basic', keyName, capability: entry.capability, wildcard: true };
  }

  /** Verifies a token string issued by this service (with any of its keys). */
  token(token: string): Identity {
    if (isJwt(token)) return this.jwt(token);
    const [body, sig, extra] = token.split('.');
    if (!body || !sig || extra !== undefined) throw Errors.tokenUnrecognised();
    let payload: z.infer<typeof tokenPayloadSchema>;
    try {
      payload = tokenPayloadSchema.parse(JSON.parse(Buffer.from(body, 'base64url').toString('utf8')));
    } catch {
      throw Errors.tokenUnrecognised();
    }
    const entry = this.keys.get(payload.k);
    if (!entry) throw Errors.invalidCredentials(`Invalid token: its key "${payload.k}" is not known`);
    if (!safeEqual(Buffer.from(sig, 'base64url'), hmac(entry.key.secret, body))) throw Errors.tokenUnrecognised();
    if (payload.x <= this.now()) throw Errors.tokenExpired();
    const wildcard = payload.id === '*';
    const identity: Identity = {
      method: 'token',
      keyName: payload.k,
      capability: parseCapability(payload.c),
      ...(payload.id !== undefined && !wildcard ? { clientId: payload.id } : {}),
      wildcard,
      expires: payload.x,
      issued: payload.i,
    };
    if (this.revocations.isRevoked(identity)) throw Errors.tokenRevoked();
    return identity;
  }

  /** An Ably JWT (auth/jwt.ts): its capability narrowed to its key's, as a TokenRequest's would be. */
  private jwt(token: string): Identity {
    const c = verifyJwt(token, (k) => this.keys.get(k)?.key.secret, this.now());
    const wildcard = c.clientId === '*';
    const identity: Identity = {
      method: 'token',
      keyName: c.keyName,
      capability: intersect(this.keys.get(c.keyName)!.capability, parseCapability(c.capability)),
      ...(c.clientId !== undefined && !wildcard ? { clientId: c.clientId } : {}),
      wildcard,
      expires: c.expires,
      issued: c.issued,
      ...(c.revocationKey !== undefined ? { revocationKey: c.revocationKey } : {}),
    };
    if (this.revocations.isRevoked(identity)) throw Errors.tokenRevoked();
    return identity;
  }

  /** POST /keys/:keyName/requestToken with a signed TokenRequest, or unsigned with basic auth for that key. */
  requestToken(urlKeyName: string, body: unknown, basic?: Identity): TokenDetailsWire {
    const parsed = tokenRequestSchema.safeParse(body);
    if (!parsed.success) throw Errors.badRequest(`Invalid TokenRequest: ${parsed.error.issues[0]?.path.join('.') || 'body'}: ${parsed.error.issues[0]?.message}`);
    const req = parsed.data;
    if (req.keyName !== urlKeyName) throw Errors.badRequest(`TokenRequest keyName "${req.keyName}" does not match the URL's key "${urlKeyName}"`);
    const entry = this.keys.get(req.keyName);
    if (!entry) throw Errors.invalidCredentials(`Invalid key: no key named "${req.keyName}"`);
    const ttl = req.ttl === null || req.ttl === undefined || req.ttl === '' ? '' : String(req.ttl);
    const capability = typeof req.capability === 'object' && req.capability ? canonicalCapability(req.capability) : (req.capability ?? '');
    const clientId = req.clientId ?? '';

    if (req.mac) {
      const timestamp = Number(req.timestamp);
      if (!Number.isFinite(timestamp) || Math.abs(this.now() - timestamp) > TIMESTAMP_WINDOW_MS) throw Errors.timestampNotCurrent();
      const nonce = req.nonce ?? '';
      if (nonce.length < 16) throw Errors.badRequest('Invalid TokenRequest: nonce must be at least 16 characters');
      const text = `${req.keyName}\n${ttl}\n${capability}\n${clientId}\n${req.timestamp}\n${nonce}\n`;
      if (!safeEqual(Buffer.from(req.mac, 'base64'), hmac(entry.key.secret, text))) throw Errors.invalidCredentials('Invalid TokenRequest: mac does not match');
      this.useNonce(req.keyName, nonce);
    } else if (!basic || basic.keyName !== req.keyName) {
      throw Errors.invalidCredentials('Invalid TokenRequest: no mac, and not authenticated with the key');
    }

    const granted = capability ? intersect(entry.capability, parseCapability(capability)) : entry.capability;
    const ttlMs = ttl === '' ? DEFAULT_TTL_MS : Number(ttl);
    if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw Errors.badRequest(`Invalid TokenRequest: ttl must be a positive number of ms, got "${ttl}"`);
    if (ttlMs > MAX_TTL_MS) throw Errors.invalidParameter(`Invalid TokenRequest: ttl ${ttlMs} ms exceeds the maximum of ${MAX_TTL_MS} ms`);
    return this.issue(req.keyName, entry.key.secret, granted, ttlMs, clientId || undefined);
  }

  private issue(keyName: string, secret: string, capability: Capability, ttlMs: number, clientId?: string): TokenDetailsWire {
    const issued = this.now();
    const c = canonicalCapability(capability);
    const payload = { k: keyName, i: issued, x: issued + ttlMs, c, ...(clientId !== undefined ? { id: clientId } : {}), n: randomBytes(6).toString('base64url') };
    const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
    const token = `${body}.${hmac(secret, body).toString('base64url')}`;
    return { token, keyName, issued, expires: payload.x, capability: c, ...(clientId !== undefined ? { clientId } : {}) };
  }

  private useNonce(keyName: string, nonce: string): void {
    const now = this.now();
    const id = `${keyName}\n${nonce}`;
    const seen = this.nonces.get(id);
    if (seen !== undefined && seen > now) throw Errors.nonceReplayed();
    // A nonce only needs remembering while its request's timestamp could still be accepted.
    if (this.nonces.size > 10_000) for (const [k, exp] of this.nonces) if (exp <= now) this.nonces.delete(k);
    this.nonces.set(id, now + 2 * TIMESTAMP_WINDOW_MS);
  }
}

function safeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Which clientId a connection or request gets, given credentials and the clientId it asked for. */
export function resolveClientId(id: Identity, requested: string | undefined): string | undefined {
  if (requested === undefined || requested === '') return id.clientId;
  if (requested === '*') throw Errors.invalidClientId('"*" is not a valid clientId for a connection');
  if (id.clientId !== undefined && id.clientId !== requested) {
    throw Errors.incompatibleCredentials(`Mismatched clientId: the credentials are for "${id.clientId}", the client asked for "${requested}"`);
  }
  if (id.clientId === undefined && !id.wildcard) {
    throw Errors.incompatibleCredentials(`Mismatched clientId: the token has no clientId, the client asked for "${requested}"`);
  }
  return requested;
}

