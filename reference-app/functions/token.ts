/**
 * The token endpoint (the article's Netlify function): an Ably TokenRequest for the signed-in
 * user. Unlike the original, which handed out the key's full capability, the token allows only
 * what the chat needs, so a browser cannot publish fake database events on `incoming`.
 *
 * A token is issued only for a live server-side session and never outlives it. Logout revokes the
 * user's tokens (session.ts); where that fails, a token outlives its logout by at most its TTL.
 *
 * AWS entry: `handler` (GET /api/token), configured by ABLY_API_KEY, DATABASE_URL and SESSION_SECRET.
 */
import * as Ably from 'ably';
import { channelWildcard } from '../contract/index.ts';
import { fail, json, type HttpHandler } from './http.ts';
import { noSession, sessionFromEnv, type SessionService } from './session.ts';

/** Operations listed in sorted order, as Ably canonicalises them in a TokenRequest. */
export const CHAT_CAPABILITY: Readonly<Record<string, string[]>> = Object.freeze({
  [channelWildcard('outgoing')]: ['publish'],
  [channelWildcard('incoming')]: ['presence', 'subscribe'],
  [channelWildcard('typing')]: ['presence', 'publish', 'subscribe'],
});

export interface TokenOptions {
  ablyKey: string;
  session: SessionService;
  ttlMs?: number;
  /** Planted defect for the harness's self-check: the key's full capability, as the original issued. */
  fullCapability?: boolean;
}

/** Short, because it bounds how long a token outlives a logout whose revocation failed. */
const DEFAULT_TTL_MS = 15 * 60 * 1000;

export function createTokenHandler(opts: TokenOptions): HttpHandler {
  if (!/^[^.:]+\.[^.:]+:.+$/.test(opts.ablyKey)) throw new Error('ablyKey: expected "appId.keyId:secret"');
  // createTokenRequest signs locally with the key's secret; nothing goes over the network.
  const rest = new Ably.Rest({ key: opts.ablyKey });
  const capability = JSON.stringify(opts.fullCapability ? { '*': ['*'] } : CHAT_CAPABILITY);
  return async (event) => {
    if (event.requestContext.http.method !== 'GET' && event.requestContext.http.method !== 'POST') return fail(405, 'method', 'expected GET');
    const s = await opts.session.read(event);
    if (!s) return noSession();
    const ttl = Math.max(1000, Math.min(opts.ttlMs ?? DEFAULT_TTL_MS, s.expiresAt - Date.now()));
    const tokenRequest = await rest.auth.createTokenRequest({ clientId: s.clientId, capability, ttl });
    return json(200, tokenRequest);
  };
}

let shared: HttpHandler | undefined;

/** AWS Lambda entry point. */
export const handler: HttpHandler = async (event) => {
  if (!shared) {
    const ablyKey = process.env.ABLY_API_KEY;
    if (!ablyKey) throw new Error('ABLY_API_KEY is not set');
    shared = createTokenHandler({ ablyKey, session: sessionFromEnv() });
  }
  return shared(event);
};
