/**
 * Message payloads, kept in one canonical form: binary data as bytes with the transport
 * `base64` step removed from `encoding`. Each subscriber's format then gets the right shape
 * (raw bytes in MessagePack, base64 text plus "/base64" in JSON), as Ably does.
 */
import type { Format } from './constants.ts';
import type { WireMessageIn } from './codec.ts';
import { Errors } from './errors.ts';

export type Data = string | Uint8Array | null;

/** Who changed a message, when, and why (Ably's `version` on updated, deleted and appended messages). */
export interface MessageVersion {
  serial: string;
  timestamp: number;
  clientId?: string;
  description?: string;
  metadata?: Record<string, string>;
}

export interface StoredMessage {
  id: string;
  /** Ably's message action: 0 create (left out on the wire), 1 update, 2 delete, 5 append. */
  action?: number;
  version?: MessageVersion;
  name?: string;
  clientId?: string;
  connectionId?: string;
  data?: Data;
  encoding?: string;
  extras?: unknown;
  timestamp: number;
  serial: string;
}

export interface Payload {
  data?: Data;
  encoding?: string;
}

/** Normalises an inbound payload; throws 40013 for data types Ably does not accept. */
export function payloadFromWire(m: Pick<WireMessageIn, 'data' | 'encoding'>): Payload {
  let data = m.data;
  let encoding = m.encoding ?? undefined;
  if (data === undefined || data === null) return encoding ? { data: null, encoding } : {};
  if (data instanceof Uint8Array) return { data: copyBytes(data), ...(encoding ? { encoding } : {}) };
  if (typeof data === 'object') {
    // A hand-written JSON client may send an object: store it as Ably's SDKs would have encoded it.
    data = JSON.stringify(data);
    encoding = encoding ? `${encoding}/json` : 'json';
  }
  if (typeof data !== 'string') throw Errors.invalidMessageData(`Unsupported data type: ${typeof data}`);
  if (encoding && /(^|\/)base64$/.test(encoding)) {
    const bytes = Buffer.from(data, 'base64');
    const rest = encoding.slice(0, -'base64'.length).replace(/\/$/, '');
    return { data: bytes, ...(rest ? { encoding: rest } : {}) };
  }
  return { data, ...(encoding ? { encoding } : {}) };
}

function copyBytes(b: Uint8Array): Buffer {
  // Decoded msgpack bytes are views into the whole frame; copying lets the frame be freed.
  return Buffer.from(b);
}

/**
 * The message as a client of `format` receives it. Inside a MESSAGE frame (`parent` given, `index`
 * its position), fields the SDK derives from the frame are left out, as Ably does (TM2a/c/f):
 * the id when it is "frameId:index", the frame's connectionId and timestamp. Fewer fields make
 * every subscriber's decode cheaper.
 */
export function messageToWire(m: StoredMessage, format: Format, parent?: { id: string; connectionId?: string; timestamp: number }, index = 0): Record<string, unknown> {
  const out: Record<string, unknown> = { serial: m.serial };
  if (!parent || m.id !== `${parent.id}:${index}`) out.id = m.id;
  if (!parent || m.timestamp !== parent.timestamp) out.timestamp = m.timestamp;
  if (m.connectionId !== undefined && (!parent || m.connectionId !== parent.connectionId)) out.connectionId = m.connectionId;
  if (m.name !== undefined) out.name = m.name;
  if (m.clientId !== undefined) out.clientId = m.clientId;
  if (m.extras !== undefined) out.extras = m.extras;
  if (m.action !== undefined) out.action = m.action;
  if (m.version !== undefined) out.version = m.version;
  Object.assign(out, payloadToWire(m, format));
  return out;
}

export function payloadToWire(p: Payload, format: Format): Payload {
  if (p.data instanceof Uint8Array && format === 'json') {
    return { data: Buffer.from(p.data.buffer, p.data.byteOffset, p.data.byteLength).toString('base64'), encoding: p.encoding ? `${p.encoding}/base64` : 'base64' };
  }
  const out: Payload = {};
  if (p.data !== undefined) out.data = p.data;
  if (p.encoding !== undefined) out.encoding = p.encoding;
  return out;
}

/** Ably's message size: name + clientId + JSON(extras) + data bytes. */
export function messageSize(m: { name?: string | null; clientId?: string | null; extras?: unknown; data?: Data }): number {
  let size = 0;
  if (m.name) size += m.name.length;
  if (m.clientId) size += m.clientId.length;
  if (m.extras !== undefined && m.extras !== null) size += JSON.stringify(m.extras).length;
  if (typeof m.data === 'string') size += Buffer.byteLength(m.data);
  else if (m.data instanceof Uint8Array) size += m.data.byteLength;
  return size;
}

/** Decodes `utf-8` and `json` steps for server-side consumers; stops at anything else (e.g. cipher). */
export function decodePayload(p: Payload): { data: unknown; encoding?: string } {
  let data: unknown = p.data instanceof Uint8Array ? Buffer.from(p.data) : p.data;
  const steps = p.encoding ? p.encoding.split('/') : [];
  try {
    while (steps.length) {
      const step = steps[steps.length - 1];
      if (step === 'json' && typeof data === 'string') data = JSON.parse(data);
      else if (step === 'utf-8' && Buffer.isBuffer(data)) data = data.toString('utf8');
      else break;
      steps.pop();
    }
  } catch {
    /* leave the remaining encoding for the consumer */
  }
  return steps.length ? { data, encoding: steps.join('/') } : { data };
}
