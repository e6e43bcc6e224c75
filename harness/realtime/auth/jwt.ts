/**
 * Ably JWTs, as Ably's docs define them: HS256, signed with an API key's secret, the key's name
 * in the header's `kid`; claims `iat` and `exp` (seconds), `x-ably-capability` (a JSON string),
 * optionally `x-ably-clientId` and `x-ably-revocation-key` (what `revokeTokens` targets as
 * `revocationKey:<value>`). A customer's server mints them with any JWT library, so the service
 * must accept them wherever it accepts its own tokens. Embedded Ably tokens (`x-ably-token`) are
 * not supported.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { AblyError } from '../protocol/errors.ts';

export interface JwtClaims {
  keyName: string;
  issued: number;
  expires: number;
  capability: string;
  clientId?: string;
  revocationKey?: string;
}

const headerSchema = z.object({ alg: z.literal('HS256'), kid: z.string().min(1) });
const claimsSchema = z.object({
  iat: z.number(),
  exp: z.number(),
  'x-ably-capability': z.string(),
  'x-ably-clientId': z.string().optional(),
  'x-ably-revocation-key': z.string().optional(),
});

const invalid = (why: string) => new AblyError(40144, 401, `Invalid JWT: ${why}`);

/** Three base64url parts: a JWT (this service's own tokens have two). */
export function isJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token);
}

/**
 * Verifies the signature with the secret of the key the header names and returns the claims, in
 * ms. An unknown key is 40400 (Ably: the app or key does not exist), a bad signature or shape
 * 40144, an expired JWT 40142.
 */
export function verifyJwt(token: string, secretOf: (keyName: string) => string | undefined, now: number): JwtClaims {
  const [h, p, sig] = token.split('.') as [string, string, string];
  const header = headerSchema.safeParse(decodePart(h));
  if (!header.success) throw invalid(`header ${header.error.issues[0]?.path.join('.') || ''}: ${header.error.issues[0]?.message}`);
  const claims = claimsSchema.safeParse(decodePart(p));
  if (!claims.success) throw invalid(`claim ${claims.error.issues[0]?.path.join('.') || ''}: ${claims.error.issues[0]?.message}`);
  const keyName = header.data.kid;
  const secret = secretOf(keyName);
  if (secret === undefined) throw new AblyError(40400, 404, `Invalid JWT: no key named "${keyName}"`);
  const want = createHmac('sha256', secret).update(`${h}.${p}`, 'utf8').digest();
  const got = Buffer.from(sig, 'base64url');
  if (got.length !== want.length || !timingSafeEqual(got, want)) throw invalid('signature does not match its key');
  const c = claims.data;
  const expires = c.exp * 1000;
  if (expires <= now) throw new AblyError(40142, 401, 'Token expired');
  return {
    keyName,
    issued: c.iat * 1000,
    expires,
    capability: c['x-ably-capability'],
    ...(c['x-ably-clientId'] !== undefined ? { clientId: c['x-ably-clientId'] } : {}),
    ...(c['x-ably-revocation-key'] !== undefined ? { revocationKey: c['x-ably-revocation-key'] } : {}),
  };
}

function decodePart(part: string): unknown {
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}
