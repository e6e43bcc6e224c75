/**
 * The WebSocket upgrade as the ably SDK makes it: credentials and options in the query
 * string, then CONNECTED (new or resumed connection) or ERROR and a clean close. The comet
 * transport's connect request carries the same query and comes here too.
 */
import { z } from 'zod';
import { resolveClientId, type Identity } from './auth/tokens.ts';
import { Connection } from './connection.ts';
import type { RealtimeCore } from './core.ts';
import { encodeFrame } from './protocol/codec.ts';
import { Action, type Format } from './protocol/constants.ts';
import { AblyError, Errors, isAblyError } from './protocol/errors.ts';
import type { Transport } from './transport.ts';

const bool = z.enum(['true', 'false']);
const querySchema = z.object({
  key: z.string().min(1).optional(),
  access_token: z.string().min(1).optional(),
  format: z.enum(['json', 'msgpack']).optional(),
  heartbeats: bool.optional(),
  echo: bool.optional(),
  clientId: z.string().optional(),
  resume: z.string().optional(),
  recover: z.string().optional(),
});

/** The connection now bound to `ws`, or undefined when it was refused (ERROR sent, closing). */
export function acceptRealtime(core: RealtimeCore, ws: Transport, url: URL): Connection | undefined {
  const raw = Object.fromEntries(url.searchParams);
  const format: Format = raw.format === 'msgpack' ? 'msgpack' : 'json';
  let identity: Identity;
  let clientId: string | undefined;
  let q: z.infer<typeof querySchema>;
  try {
    const parsed = querySchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw Errors.badRequest(`Invalid connection parameter ${issue?.path.join('.')}: ${issue?.message}`);
    }
    q = parsed.data;
    if (q.access_token) identity = core.auth.token(q.access_token);
    else if (q.key) identity = core.auth.basic(q.key);
    else throw Errors.noCredentials();
    clientId = resolveClientId(identity, q.clientId);
  } catch (e) {
    const err = isAblyError(e) ? e : Errors.internal(String(e));
    core.log.debug({ code: err.code, msg: err.message }, 'connection refused');
    refuse(core, ws, format, err);
    return undefined;
  }

  const params = { format, echo: q.echo !== 'false', heartbeats: q.heartbeats === 'true' };
  const resumeKey = q.resume ?? q.recover;
  if (resumeKey) {
    const old = core.connectionsByKey.get(resumeKey);
    if (old instanceof Connection && !old.isClosed && old.clientId === clientId) {
      old.identity = identity;
      old.format = params.format;
      old.echo = params.echo;
      old.heartbeats = params.heartbeats;
      core.stats.connectionsResumed++;
      old.rotateKey();
      old.bindSocket(ws);
      return old;
    }
    // A key this service could have issued has expired; anything else was never a connection key.
    const err = isOwnConnectionKey(resumeKey) ? Errors.connectionExpired() : Errors.invalidConnectionKey();
    const fresh = new Connection(core, identity, clientId, params);
    fresh.bindSocket(ws, err);
    return fresh;
  }
  const conn = new Connection(core, identity, clientId, params);
  conn.bindSocket(ws);
  return conn;
}

function isOwnConnectionKey(key: string): boolean {
  return /^[0-9a-f]{12}![A-Za-z0-9]+-[0-9a-z]+$/.test(key);
}

function refuse(core: RealtimeCore, ws: Transport, format: Format, err: AblyError): void {
  core.stats.error(err.code);
  ws.on('error', () => ws.terminate());
  ws.send(encodeFrame({ action: Action.ERROR, error: err.toWire() }, format), { binary: format === 'msgpack' });
  ws.close(1000);
}
