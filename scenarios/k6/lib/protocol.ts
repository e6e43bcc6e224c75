/**
 * Ably's realtime protocol (v6, JSON text frames) and the chat's sign-in, as plain functions:
 * no k6 and no Node imports, so the k6 scripts use them and Node tests drive them against the
 * local realtime service over a real WebSocket. JSON, because k6's WebSocket carries text.
 */
import { CHANGE_NAMES, MESSAGE_NAMES, type ChangeName } from './chat-names.ts';

export const Action = {
  HEARTBEAT: 0,
  ACK: 1,
  NACK: 2,
  CONNECTED: 4,
  DISCONNECTED: 6,
  CLOSE: 7,
  CLOSED: 8,
  ERROR: 9,
  ATTACH: 10,
  ATTACHED: 11,
  DETACH: 12,
  DETACHED: 13,
  PRESENCE: 14,
  MESSAGE: 15,
  SYNC: 16,
  AUTH: 17,
} as const;

export const Flag = { PUBLISH: 1 << 17, SUBSCRIBE: 1 << 18 } as const;

export const PROTOCOL_VERSION = 6;
/** Ably's own endpoint (REST and realtime share it since ably-js 2). */
export const ABLY_HOST = 'main.realtime.ably.net';
export const AGENT = 'editable-chat-harness-k6/0.1';

export interface RealtimeTarget {
  host: string;
  port: number;
  tls: boolean;
}

export interface ErrorInfo {
  code: number;
  statusCode?: number;
  message: string;
}

/** What the token endpoint returns: a TokenRequest signed with the app's key (never the key itself). */
export interface TokenRequest {
  keyName: string;
  timestamp: number;
  nonce: string;
  mac: string;
  ttl?: number;
  capability?: string;
  clientId?: string;
}

export interface TokenDetails {
  token: string;
  expires: number;
  clientId?: string;
}

export interface HttpRequestSpec {
  method: 'GET' | 'POST';
  url: string;
  body?: string;
  headers: Record<string, string>;
}

function origin(t: RealtimeTarget, scheme: 'http' | 'ws'): string {
  const s = t.tls ? `${scheme}s` : scheme;
  const defaultPort = t.tls ? 443 : 80;
  return `${s}://${t.host}${t.port === defaultPort ? '' : `:${t.port}`}`;
}

export function restOrigin(t: RealtimeTarget): string {
  return origin(t, 'http');
}

/** The upgrade URL as Ably's SDKs build it; heartbeats=true so liveness arrives as frames k6 can see. */
export function realtimeUrl(t: RealtimeTarget, accessToken: string): string {
  const q = [
    ['access_token', accessToken],
    ['format', 'json'],
    ['heartbeats', 'true'],
    ['v', String(PROTOCOL_VERSION)],
    ['agent', AGENT],
  ];
  return `${origin(t, 'ws')}/?${q.map(([k, v]) => `${k}=${encodeURIComponent(v!)}`).join('&')}`;
}

/** Sign-in of the chat: a display name; the answer sets the session cookie. */
export function loginRequest(loginUrl: string, name: string): HttpRequestSpec {
  return { method: 'POST', url: loginUrl, body: JSON.stringify({ name }), headers: { 'content-type': 'application/json' } };
}

/** The token endpoint, with the session cookie (k6 sends it from the VU's cookie jar; Node passes it). */
export function tokenEndpointRequest(tokenUrl: string, cookie?: string): HttpRequestSpec {
  return { method: 'GET', url: tokenUrl, headers: cookie ? { cookie } : {} };
}

/** Exchanging a TokenRequest for a token at Ably's REST API: no key travels, the mac proves it. */
export function tokenExchangeRequest(t: RealtimeTarget, tr: TokenRequest): HttpRequestSpec {
  return {
    method: 'POST',
    url: `${restOrigin(t)}/keys/${encodeURIComponent(tr.keyName)}/requestToken`,
    body: JSON.stringify(tr),
    headers: { 'content-type': 'application/json', accept: 'application/json', 'x-ably-version': String(PROTOCOL_VERSION), 'ably-agent': AGENT },
  };
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses a JSON body, naming what was expected when it is not that. */
export function parseTokenRequest(body: string): TokenRequest {
  const v = parseJson(body, 'token endpoint response');
  if (!isObj(v) || typeof v.keyName !== 'string' || typeof v.timestamp !== 'number' || typeof v.nonce !== 'string' || typeof v.mac !== 'string') {
    throw new Error(`token endpoint response: expected a TokenRequest {keyName, timestamp, nonce, mac}, got ${body.slice(0, 200)}`);
  }
  const tr: TokenRequest = { keyName: v.keyName, timestamp: v.timestamp, nonce: v.nonce, mac: v.mac };
  if (typeof v.ttl === 'number') tr.ttl = v.ttl;
  if (typeof v.capability === 'string') tr.capability = v.capability;
  if (typeof v.clientId === 'string') tr.clientId = v.clientId;
  return tr;
}

export function parseTokenDetails(body: string): TokenDetails {
  const v = parseJson(body, 'requestToken response');
  if (!isObj(v) || typeof v.token !== 'string' || typeof v.expires !== 'number') {
    throw new Error(`requestToken response: expected TokenDetails {token, expires}, got ${body.slice(0, 200)}`);
  }
  return { token: v.token, expires: v.expires, ...(typeof v.clientId === 'string' ? { clientId: v.clientId } : {}) };
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${what}: expected JSON, got ${text.slice(0, 200)}`);
  }
}

// --- frames a client sends ---------------------------------------------------------------

export interface OutboundMessage {
  id?: string;
  name: string;
  /** Objects go as JSON text with encoding "json", as Ably's SDKs send them. */
  data: unknown;
}

export function attachFrame(channel: string, modes?: number): string {
  return JSON.stringify(modes ? { action: Action.ATTACH, channel, flags: modes } : { action: Action.ATTACH, channel });
}

export function detachFrame(channel: string): string {
  return JSON.stringify({ action: Action.DETACH, channel });
}

export function messageFrame(channel: string, msgSerial: number, messages: readonly OutboundMessage[]): string {
  const wire = messages.map((m) => {
    const out: Obj = { name: m.name };
    if (m.id !== undefined) out.id = m.id;
    if (typeof m.data === 'string') out.data = m.data;
    else {
      out.data = JSON.stringify(m.data);
      out.encoding = 'json';
    }
    return out;
  });
  return JSON.stringify({ action: Action.MESSAGE, channel, msgSerial, messages: wire });
}

export function heartbeatFrame(id?: string): string {
  return JSON.stringify(id ? { action: Action.HEARTBEAT, id } : { action: Action.HEARTBEAT });
}

export function authFrame(accessToken: string): string {
  return JSON.stringify({ action: Action.AUTH, auth: { accessToken } });
}

export function closeFrame(): string {
  return JSON.stringify({ action: Action.CLOSE });
}

// --- frames a client receives ------------------------------------------------------------

export interface InboundFrame {
  action: number;
  id?: string;
  channel?: string;
  channelSerial?: string;
  connectionId?: string;
  connectionKey?: string;
  msgSerial?: number;
  count?: number;
  flags?: number;
  timestamp?: number;
  error?: ErrorInfo;
  messages?: Obj[];
}

/** A frame, or an error naming what was wrong with it. */
export function parseFrame(text: string): InboundFrame | { invalid: string } {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { invalid: `not JSON: ${text.slice(0, 120)}` };
  }
  if (!isObj(v) || typeof v.action !== 'number') return { invalid: `no numeric action: ${text.slice(0, 120)}` };
  const f: InboundFrame = { action: v.action };
  if (typeof v.id === 'string') f.id = v.id;
  if (typeof v.channel === 'string') f.channel = v.channel;
  if (typeof v.channelSerial === 'string') f.channelSerial = v.channelSerial;
  if (typeof v.connectionId === 'string') f.connectionId = v.connectionId;
  if (typeof v.msgSerial === 'number') f.msgSerial = v.msgSerial;
  if (typeof v.count === 'number') f.count = v.count;
  if (typeof v.flags === 'number') f.flags = v.flags;
  if (typeof v.timestamp === 'number') f.timestamp = v.timestamp;
  if (isObj(v.connectionDetails) && typeof v.connectionDetails.connectionKey === 'string') f.connectionKey = v.connectionDetails.connectionKey;
  if (isObj(v.error)) {
    f.error = { code: Number(v.error.code ?? 0), message: String(v.error.message ?? '') };
    if (typeof v.error.statusCode === 'number') f.error.statusCode = v.error.statusCode;
  }
  if (Array.isArray(v.messages)) f.messages = v.messages.filter(isObj);
  return f;
}

export interface ReceivedMessage {
  id: string;
  name: string;
  clientId?: string;
  connectionId?: string;
  timestamp?: number;
  data: unknown;
}

/**
 * Messages of a MESSAGE frame with the fields Ably leaves out when the frame implies them
 * (TM2a/c/f): id "frameId:index", the frame's connectionId and timestamp.
 */
export function receivedMessages(f: InboundFrame): ReceivedMessage[] {
  return (f.messages ?? []).map((m, i) => {
    const out: ReceivedMessage = {
      id: typeof m.id === 'string' ? m.id : `${f.id ?? ''}:${i}`,
      name: typeof m.name === 'string' ? m.name : '',
      data: decodeData(m.data, typeof m.encoding === 'string' ? m.encoding : undefined),
    };
    const clientId = typeof m.clientId === 'string' ? m.clientId : undefined;
    const connectionId = typeof m.connectionId === 'string' ? m.connectionId : f.connectionId;
    const timestamp = typeof m.timestamp === 'number' ? m.timestamp : f.timestamp;
    if (clientId !== undefined) out.clientId = clientId;
    if (connectionId !== undefined) out.connectionId = connectionId;
    if (timestamp !== undefined) out.timestamp = timestamp;
    return out;
  });
}

/** Undoes the `json` and `utf-8` encoding steps (outermost last); anything else stays undecoded. */
export function decodeData(data: unknown, encoding: string | undefined): unknown {
  if (!encoding) return data;
  const steps = encoding.split('/').filter((s) => s.length > 0);
  let value = data;
  while (steps.length > 0) {
    const step = steps[steps.length - 1];
    if (step === 'json' && typeof value === 'string') {
      try {
        value = JSON.parse(value);
      } catch {
        return data;
      }
    } else if (step !== 'utf-8') break;
    steps.pop();
  }
  return value;
}

// --- the chat's channels and payloads ----------------------------------------------------

export { incomingChannel, outgoingChannel, typingChannel, type ChangeName } from './chat-names.ts';

export interface ChatRow {
  id: string;
  text: string;
  author: string;
  version: number;
  deleted: boolean;
}

export interface ChangeEvent {
  /** The connector's realtime message id: the same event received twice has the same id. */
  eventId: string;
  name: ChangeName;
  row: ChatRow;
  /** When the connector published it, epoch ms: its own time with µs (`data.publishedAt`) when it sends one, else the realtime message's timestamp (whole ms). */
  publishedAt?: number;
  /** The row's `updated_at` (its commit time) as the connector sent it. */
  updatedAt?: string;
  /** The connector's commit position (commit number, outbox sequence), when it sends one. */
  position?: number[];
}

/** A connector event on incoming (`{table, type, row}`), or undefined for anything else. */
export function changeFromMessage(m: ReceivedMessage): ChangeEvent | undefined {
  const name = CHANGE_NAMES.find((n) => n === m.name);
  if (!name) return undefined;
  const data = isObj(m.data) ? m.data : undefined;
  const r = data && isObj(data.row) ? data.row : undefined;
  if (!r || typeof r.id !== 'string') return undefined;
  const change: ChangeEvent = {
    eventId: m.id,
    name,
    row: {
      id: r.id,
      text: typeof r.text === 'string' ? r.text : '',
      author: typeof r.author === 'string' ? r.author : '',
      version: Number(r.version ?? 0),
      deleted: r.deleted === true,
    },
  };
  const stamped = data?.publishedAt;
  if (typeof stamped === 'number' && Number.isFinite(stamped)) change.publishedAt = stamped;
  else if (m.timestamp !== undefined) change.publishedAt = m.timestamp;
  if (typeof r.updated_at === 'string') change.updatedAt = r.updated_at;
  const pos = data?.position;
  if (Array.isArray(pos) && pos.length > 0 && pos.every((x) => typeof x === 'number')) change.position = pos as number[];
  return change;
}

/** Operations on outgoing, as the chat-writer reads them (reference-app/functions/envelope.ts). */
export const chatPost = (id: string, text: string): OutboundMessage => ({ id, name: MESSAGE_NAMES.post, data: { text } });
export const chatEdit = (id: string, target: string, text: string): OutboundMessage => ({ id, name: MESSAGE_NAMES.edit, data: { id: target, text } });
export const chatDelete = (id: string, target: string): OutboundMessage => ({ id, name: MESSAGE_NAMES.delete, data: { id: target } });
export const typingMessage = (id: string): OutboundMessage => ({ id, name: MESSAGE_NAMES.typing, data: { typing: true } });
