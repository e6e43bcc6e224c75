/**
 * The WebSocket upgrade as the ably SDK makes it: credentials and options in the query
 * string, then CONNECTED (new or resumed connection) or ERROR and a clean close.
 */
import type { WebSocket } from 'ws';
import { z } from 'zod';
import { resolveClientId, type Identity } from './auth/tokens.ts';
import { Connection } from './connection.ts';
import type { RealtimeCore } from './core.ts';
import { encodeFrame } from './protocol/codec.ts';
import { Action, type Format } from './protocol/constants.ts';
import { AblyError, Errors, isAblyError } from './protocol/errors.ts';

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

export function acceptRealtime(core: RealtimeCore, ws: WebSocket, url: URL): void {
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
    return refuse(core, ws, format, err);
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
      return;
    }
    // A key this service could have issued has expired; anything else was never a connection key.
    const err = isOwnConnectionKey(resumeKey) ? Errors.connectionExpired() : Errors.invalidConnectionKey();
    new Connection(core, identity, clientId, params).bindSocket(ws, err);
    return;
  }
  new Connection(core, identity, clientId, params).bindSocket(ws);
}

function isOwnConnectionKey(key: string): boolean {
  return /^[0-9a-f]{12}![A-Za-z0-9]+-[0-9a-z]+$/.test(key);
}

function refuse(core: RealtimeCore, ws: WebSocket, format: Format, err: AblyError): void {
  core.stats.error(err.code);
  ws.on('error', () => ws.terminate());
  ws.send(encodeFrame({ action: Action.ERROR, error: err.toWire() }, format), { binary: format === 'msgpack' });
  ws.close(1000);
}
