/**
 * Ably's REST API as the SDK calls it: /time, token requests, channel publish (one message or
 * a batch, idempotent by message id), history with paging, presence and channel status.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { allows, type Operation } from '../auth/capability.ts';
import { parseChannelName } from '../channel-names.ts';
import { maxFrameSize } from '../connection.ts';
import { presenceToWire, type RealtimeCore } from '../core.ts';
import { wireMessageSchema } from '../protocol/codec.ts';
import { Flag, PresenceAction, type Format } from '../protocol/constants.ts';
import { Errors } from '../protocol/errors.ts';
import { messageToWire } from '../protocol/payload.ts';
import { authenticate, type RestCaller } from './rest-auth.ts';
import { linkHeader, pageHistory, parseHistoryQuery } from './history.ts';
import { readDecoded, send } from './respond.ts';
import { toChange } from '../channel-ops.ts';
import { allVersions, changeAction, latestVersion } from '../mutations.ts';
import { messagesToPublish } from './publish-body.ts';
import { batchPresence, batchPublish, revokeTokens } from './batch.ts';
import { getStats, postStats } from './stats.ts';
import { annotationsOf, parseAnnotations, publishAnnotations } from '../annotations.ts';

type Route = (core: RealtimeCore, req: IncomingMessage, res: ServerResponse, url: URL, fmt: Format, seg: string[]) => Promise<void>;

/** Percent-decodes one path segment; a bad escape is the client's error, not a crash. */
function segment(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw Errors.badRequest(`Invalid percent-encoding in path segment "${raw.slice(0, 100)}"`);
  }
}

function channelFor(caller: RestCaller, raw: string, op: Operation): string {
  const { base } = parseChannelName(segment(raw));
  if (!allows(caller.identity.capability, base, op)) throw Errors.notPermitted(`Unable to perform channel operation (operation = ${op}, channel = ${base}): not permitted by capability`);
  return base;
}

const time: Route = async (_c, _req, res, _u, fmt) => send(res, 200, [Date.now()], fmt);

const requestToken: Route = async (core, req, res, url, fmt, seg) => {
  const keyName = segment(seg[1]!);
  let basic;
  if (/^basic /i.test(req.headers.authorization ?? '')) basic = authenticate(core, req, url).identity;
  const body = await readDecoded(req, 1 << 20);
  send(res, 200, core.auth.requestToken(keyName, body, basic), fmt);
};

const publish: Route = async (core, req, res, url, fmt, seg) => {
  const caller = authenticate(core, req, url);
  const channel = channelFor(caller, seg[1]!, 'publish');
  const { messages, connectionId } = messagesToPublish(core, caller, await readDecoded(req, maxFrameSize(core.opts.maxMessageSize)));
  const idBase = randomBytes(9).toString('base64');
  const serials = core.publish(channel, messages, { idBase, ...(connectionId !== undefined ? { connectionId } : {}) });
  send(res, 201, { channel, messageId: idBase, serials }, fmt);
};

const postAnnotations: Route = async (core, req, res, url, fmt, seg) => {
  const caller = authenticate(core, req, url);
  const channel = channelFor(caller, seg[1]!, 'annotation-publish');
  const body = await readDecoded(req, maxFrameSize(core.opts.maxMessageSize));
  const list = parseAnnotations(Array.isArray(body) ? body : [body]);
  const serial = segment(seg[3]!);
  for (const a of list) {
    if (a.messageSerial !== serial) throw Errors.badRequest(`Annotation messageSerial "${a.messageSerial.slice(0, 100)}" does not match the URL's "${serial.slice(0, 100)}"`);
    if (a.clientId && caller.clientId !== undefined && a.clientId !== caller.clientId) throw Errors.invalidClientId(`Mismatched clientId: annotation has "${a.clientId}", credentials are for "${caller.clientId}"`);
  }
  publishAnnotations(core, channel, list, { idBase: randomBytes(9).toString('base64'), ...(caller.clientId !== undefined ? { clientId: caller.clientId } : {}) });
  send(res, 201, {}, fmt);
};

/** Oldest first, paged by an offset (`cursor`) in the Link header. */
const getAnnotations: Route = async (core, req, res, url, fmt, seg) => {
  const channel = channelFor(authenticate(core, req, url), seg[1]!, 'history');
  const limit = Math.min(1000, Math.max(1, Number(url.searchParams.get('limit') ?? 100) || 100));
  const from = Math.max(0, Number(url.searchParams.get('cursor') ?? 0) || 0);
  const all = annotationsOf(core.channels.get(channel), segment(seg[3]!));
  const page = all.slice(from, from + limit);
  const links = [`<./annotations?limit=${limit}>; rel="first"`];
  if (from + limit < all.length) links.push(`<./annotations?limit=${limit}&cursor=${from + limit}>; rel="next"`);
  send(res, 200, page, fmt, { link: links.join(', ') });
};

const revoke: Route = async (core, req, res, url, fmt, seg) => revokeTokens(core, req, res, url, fmt, segment(seg[1]!));

const history: Route = async (core, req, res, url, fmt, seg) => {
  const channel = channelFor(authenticate(core, req, url), seg[1]!, 'history');
  const q = parseHistoryQuery(url.searchParams);
  const page = pageHistory(core.channels.get(channel), q);
  send(res, 200, page.items.map((m) => messageToWire(m, fmt)), fmt, { link: linkHeader(q, page.next) });
};

const getMessage: Route = async (core, req, res, url, fmt, seg) => {
  const channel = channelFor(authenticate(core, req, url), seg[1]!, 'history');
  send(res, 200, messageToWire(latestVersion(core.channels.get(channel), segment(seg[3]!)), fmt), fmt);
};

const messageVersions: Route = async (core, req, res, url, fmt, seg) => {
  const channel = channelFor(authenticate(core, req, url), seg[1]!, 'history');
  send(res, 200, allVersions(core.channels.get(channel), segment(seg[3]!)).map((m) => messageToWire(m, fmt)), fmt);
};

const changeMessage: Route = async (core, req, res, url, fmt, seg) => {
  const caller = authenticate(core, req, url);
  const channel = channelFor(caller, seg[1]!, 'publish');
  const parsed = wireMessageSchema.safeParse(await readDecoded(req, maxFrameSize(core.opts.maxMessageSize)));
  if (!parsed.success) throw Errors.badRequest(`Invalid message body: ${parsed.error.issues[0]?.path.join('.') || 'body'}: ${parsed.error.issues[0]?.message}`);
  const action = changeAction(parsed.data.action);
  if (action === undefined) throw Errors.badRequest('PATCH of a message needs an action: message.update, message.delete or message.append');
  const versionSerial = core.mutate(channel, segment(seg[3]!), toChange(action, parsed.data, caller.clientId), { idBase: randomBytes(9).toString('base64') });
  send(res, 200, { versionSerial }, fmt);
};

const presence: Route = async (core, req, res, url, fmt, seg) => {
  const channel = channelFor(authenticate(core, req, url), seg[1]!, 'subscribe');
  const clientId = url.searchParams.get('clientId');
  const connectionId = url.searchParams.get('connectionId');
  const limit = Math.min(1000, Number(url.searchParams.get('limit') ?? 100) || 100);
  const members = [...(core.channels.get(channel)?.presence.values() ?? [])]
    .filter((m) => (!clientId || m.clientId === clientId) && (!connectionId || m.connectionId === connectionId))
    .slice(0, limit);
  send(res, 200, members.map((m) => presenceToWire(m, PresenceAction.PRESENT, fmt)), fmt);
};

const presenceHistory: Route = async (core, req, res, url, fmt, seg) => {
  const channel = channelFor(authenticate(core, req, url), seg[1]!, 'history');
  const q = parseHistoryQuery(url.searchParams);
  const log = core.channels.get(channel)?.presenceLog ?? [];
  const inRange = log.filter((e) => (q.start === undefined || e.member.timestamp >= q.start) && (q.end === undefined || e.member.timestamp <= q.end));
  const ordered = q.direction === 'backwards' ? inRange.reverse() : inRange;
  // One page only: the Link header offers no next page, so the SDK stops at `limit` events.
  send(res, 200, ordered.slice(0, q.limit).map((e) => presenceToWire(e.member, e.action, fmt)), fmt, { link: linkHeader(q, undefined).replace('./messages', './history') });
};

const status: Route = async (core, req, res, url, fmt, seg) => {
  const channel = channelFor(authenticate(core, req, url), seg[1]!, 'channel-metadata');
  const ch = core.channels.get(channel);
  const subs = [...(ch?.subscribers ?? [])];
  const metrics = {
    connections: new Set(subs.map((s) => s.conn.id)).size,
    publishers: subs.filter((s) => s.modes & Flag.PUBLISH).length,
    subscribers: subs.filter((s) => s.modes & Flag.SUBSCRIBE).length,
    presenceConnections: new Set([...(ch?.presence.values() ?? [])].map((m) => m.connectionId)).size,
    presenceMembers: ch?.presence.size ?? 0,
    presenceSubscribers: subs.filter((s) => s.modes & Flag.PRESENCE_SUBSCRIBE).length,
  };
  send(res, 200, { channelId: channel, name: channel, status: { isActive: subs.length > 0, occupancy: { metrics } } }, fmt);
};

/** Finds the REST route for a method and path, or undefined when the path is not REST. */
export function restRoute(method: string, seg: string[]): { route: Route; name: string } | 'method' | undefined {
  const [a, , c, d, e] = seg;
  let table: Record<string, Route> | undefined;
  let name = '';
  if (a === 'channels' && c === 'messages' && d) {
    if (seg.length === 4) [table, name] = [{ GET: getMessage, PATCH: changeMessage }, 'message'];
    else if (seg.length === 5 && e === 'versions') [table, name] = [{ GET: messageVersions }, 'versions'];
    else if (seg.length === 5 && e === 'annotations') [table, name] = [{ GET: getAnnotations, POST: postAnnotations }, 'annotations'];
    if (!table) return undefined;
    return table[method] ? { route: table[method]!, name } : 'method';
  }
  if (seg.length === 1 && a === 'time') [table, name] = [{ GET: time }, 'time'];
  else if (seg.length === 1 && a === 'messages') [table, name] = [{ POST: batchPublish }, 'batchPublish'];
  else if (seg.length === 1 && a === 'presence') [table, name] = [{ GET: batchPresence }, 'batchPresence'];
  else if (seg.length === 1 && a === 'stats') [table, name] = [{ GET: getStats, POST: postStats }, 'stats'];
  else if (seg.length === 3 && a === 'keys' && c === 'revokeTokens') [table, name] = [{ POST: revoke }, 'revokeTokens'];
  else if (seg.length === 3 && a === 'keys' && c === 'requestToken') [table, name] = [{ POST: requestToken }, 'requestToken'];
  else if (seg.length === 2 && a === 'channels') [table, name] = [{ GET: status }, 'channel'];
  else if (seg.length === 3 && a === 'channels' && c === 'messages') [table, name] = [{ GET: history, POST: publish }, 'messages'];
  else if (seg.length === 3 && a === 'channels' && c === 'presence') [table, name] = [{ GET: presence }, 'presence'];
  if (seg.length === 4 && a === 'channels' && c === 'presence' && d === 'history') return method === 'GET' ? { route: presenceHistory, name: 'presenceHistory' } : 'method';
  if (!table || d !== undefined) return undefined;
  // Ably has no GET on requestToken: it answers 404, not 405.
  if (name === 'requestToken' && method !== 'POST') return undefined;
  const route = table[method];
  return route ? { route, name } : 'method';
}
