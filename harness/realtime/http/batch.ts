/**
 * Ably's batch REST API: `POST /messages` (batch publish), `GET /presence?channels=` (batch
 * presence) and `POST /keys/:keyName/revokeTokens`. Each channel or target succeeds or fails on
 * its own; the answer counts both. Before protocol version 3 (`X-Ably-Version`), batch publish
 * answered with the flat list of per-channel results, or 400 with 40020 and `batchResponse`
 * when any failed; ably-js's `request()` tests still speak that version.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { allows, type Operation } from '../auth/capability.ts';
import { revokeRequestSchema } from '../auth/revocation.ts';
import { parseChannelName } from '../channel-names.ts';
import { maxFrameSize } from '../connection.ts';
import { presenceToWire, type RealtimeCore } from '../core.ts';
import { PresenceAction, type Format } from '../protocol/constants.ts';
import { Errors, isAblyError, type ErrorInfoWire } from '../protocol/errors.ts';
import { authenticate, type RestCaller } from './rest-auth.ts';
import { readDecoded, send } from './respond.ts';
import { messagesToPublish } from './publish-body.ts';

type Result = { channel: string } & Record<string, unknown>;

const specSchema = z.object({
  channels: z.array(z.string(), { error: 'channels: expected an array of channel names' }).min(1, 'channels: at least one channel is required'),
  messages: z.unknown().refine((m) => m !== undefined && m !== null, 'messages: a message or an array of messages is required'),
});
const bodySchema = z.union([specSchema, z.array(specSchema).min(1)]);

/** The checked channel name, or the per-channel error Ably reports for it. */
function channelFor(caller: RestCaller, raw: string, op: Operation): string {
  const { base } = parseChannelName(raw);
  if (!allows(caller.identity.capability, base, op)) throw Errors.notPermitted(`Unable to perform channel operation (operation = ${op}, channel = ${base}): not permitted by capability`);
  return base;
}

function errorResult(channel: string, e: unknown): Result {
  if (!isAblyError(e)) throw e;
  return { channel, error: e.toWire() };
}

function counted(results: Result[]): { successCount: number; failureCount: number; results: Result[] } {
  const failureCount = results.filter((r) => 'error' in r).length;
  return { successCount: results.length - failureCount, failureCount, results };
}

export async function batchPublish(core: RealtimeCore, req: IncomingMessage, res: ServerResponse, url: URL, fmt: Format): Promise<void> {
  const caller = authenticate(core, req, url);
  const parsed = bodySchema.safeParse(await readDecoded(req, maxFrameSize(core.opts.maxMessageSize)));
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw Errors.badRequest(`Invalid batch publish body: ${i?.path.join('.') || 'body'}: ${i?.message}`);
  }
  const specs = Array.isArray(parsed.data) ? parsed.data : [parsed.data];
  // The whole body is checked first: a malformed message fails the request, not one channel.
  const prepared = specs.map((s) => messagesToPublish(core, caller, s.messages));
  const perSpec = specs.map((spec, i) =>
    spec.channels.map((raw): Result => {
      try {
        const channel = channelFor(caller, raw, 'publish');
        const { messages, connectionId } = prepared[i]!;
        const messageId = randomBytes(9).toString('base64');
        const serials = core.publish(channel, messages, { idBase: messageId, ...(connectionId !== undefined ? { connectionId } : {}) });
        return { channel: raw, messageId, serials };
      } catch (e) {
        return errorResult(raw, e);
      }
    }),
  );
  if (protocolVersion(req) >= 3) {
    const out = perSpec.map(counted);
    return send(res, 201, Array.isArray(parsed.data) ? out : out[0], fmt);
  }
  const flat = perSpec.flat();
  if (!flat.some((r) => 'error' in r)) return send(res, 201, flat, fmt);
  const err: ErrorInfoWire = Errors.batchError('Batched response includes errors').toWire();
  send(res, 400, { error: err, batchResponse: flat }, fmt, { 'x-ably-errorcode': String(err.code), 'x-ably-errormessage': err.message });
}

export async function batchPresence(core: RealtimeCore, req: IncomingMessage, res: ServerResponse, url: URL, fmt: Format): Promise<void> {
  const caller = authenticate(core, req, url);
  const names = (url.searchParams.get('channels') ?? '').split(',').filter(Boolean);
  if (!names.length) throw Errors.badRequest('channels: at least one channel name is required (?channels=a,b)');
  const results = names.map((raw): Result => {
    try {
      const ch = core.channels.get(channelFor(caller, raw, 'subscribe'));
      return { channel: raw, presence: [...(ch?.presence.values() ?? [])].map((m) => presenceToWire(m, PresenceAction.PRESENT, fmt)) };
    } catch (e) {
      return errorResult(raw, e);
    }
  });
  send(res, 200, counted(results), fmt);
}

export async function revokeTokens(core: RealtimeCore, req: IncomingMessage, res: ServerResponse, url: URL, fmt: Format, keyName: string): Promise<void> {
  const caller = authenticate(core, req, url);
  if (caller.identity.method !== 'basic') throw Errors.basicAuthRequired('Token revocation requires Basic authentication with the key that issued the tokens');
  if (caller.identity.keyName !== keyName) throw Errors.wrongKeyForRevocation(`Tokens of key "${keyName.slice(0, 100)}" can only be revoked with that key, not with "${caller.identity.keyName}"`);
  if (!core.keys.get(keyName)?.key.revocableTokens) throw Errors.revocationNotEnabled(keyName);
  const parsed = revokeRequestSchema.safeParse(await readDecoded(req, 1 << 20));
  if (!parsed.success) throw Errors.badRequest(`Invalid revokeTokens body: ${parsed.error.issues[0]?.message}`);
  const results = core.revokeTokens(keyName, parsed.data);
  const failureCount = results.filter((r) => 'error' in r).length;
  send(res, 201, { successCount: results.length - failureCount, failureCount, results }, fmt);
}

/** The protocol version the client speaks (`X-Ably-Version`); clients that send none get the current one. */
function protocolVersion(req: IncomingMessage): number {
  const v = Number(req.headers['x-ably-version']);
  return Number.isFinite(v) && v > 0 ? v : 6;
}
