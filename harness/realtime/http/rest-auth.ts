/** Credentials on a REST request: Authorization Basic/Bearer, or key/access_token query parameters. */
import type { IncomingMessage } from 'node:http';
import { resolveClientId, type Identity } from '../auth/tokens.ts';
import type { RealtimeCore } from '../core.ts';
import { Errors, isAblyError } from '../protocol/errors.ts';

export interface RestCaller {
  identity: Identity;
  clientId: string | undefined;
}

export function authenticate(core: RealtimeCore, req: IncomingMessage, url: URL): RestCaller {
  const h = req.headers.authorization ?? '';
  let identity: Identity;
  if (/^basic /i.test(h)) identity = core.auth.basic(Buffer.from(h.slice(6).trim(), 'base64').toString('utf8'));
  else if (/^bearer /i.test(h)) identity = bearer(core, h.slice(7).trim());
  else if (url.searchParams.get('key')) identity = core.auth.basic(url.searchParams.get('key')!);
  else if (url.searchParams.get('access_token')) identity = core.auth.token(url.searchParams.get('access_token')!);
  else throw Errors.noCredentials();
  const header = req.headers['x-ably-clientid'];
  const requested = typeof header === 'string' && header ? Buffer.from(header, 'base64').toString('utf8') : undefined;
  return { identity, clientId: resolveClientId(identity, requested) };
}

/** The SDK sends base64(token); other clients send the token as is. */
function bearer(core: RealtimeCore, value: string): Identity {
  try {
    return core.auth.token(Buffer.from(value, 'base64').toString('utf8'));
  } catch (e) {
    if (!isAblyError(e) || e.code !== 40143) throw e;
    return core.auth.token(value);
  }
}
