/**
 * Delta compression (`params: {delta: 'vcdiff'}`): a message goes to such an attachment as a
 * VCDIFF (RFC 3284) delta against the previous message it received on the channel, as Ably sends
 * them: encoding `<encoding>/vcdiff`, `extras.delta = {from: <previous id>, format: 'vcdiff'}`.
 * The delta copies the common prefix and suffix of the two encoded payloads from the previous
 * one and adds the middle: simple, always valid, and small for the usual edit of a payload.
 */
import type { StoredMessage } from './protocol/payload.ts';

export interface DeltaBase {
  id: string;
  bytes: Buffer;
}

/** The payload as the client keeps it for the next delta: the encoded data, as bytes. */
export function payloadBytes(m: StoredMessage): Buffer | undefined {
  if (typeof m.data === 'string') return Buffer.from(m.data, 'utf8');
  if (m.data instanceof Uint8Array) return Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength);
  return undefined;
}

/** The message as a delta against `base`, or undefined when it cannot be one (no payload bytes, or a cipher). */
export function asDelta(m: StoredMessage, base: DeltaBase): StoredMessage | undefined {
  const target = payloadBytes(m);
  if (!target || m.encoding?.includes('cipher')) return undefined;
  const extras = { ...(m.extras && typeof m.extras === 'object' ? (m.extras as Record<string, unknown>) : {}), delta: { from: base.id, format: 'vcdiff' } };
  // A string payload decodes from bytes back to a string through a utf-8 step.
  const steps = [m.encoding, typeof m.data === 'string' ? 'utf-8' : undefined, 'vcdiff'].filter(Boolean);
  return { ...m, data: vcdiff(base.bytes, target), encoding: steps.join('/'), extras };
}

function varint(n: number): number[] {
  const out = [n & 0x7f];
  for (n = Math.floor(n / 128); n > 0; n = Math.floor(n / 128)) out.unshift((n & 0x7f) | 0x80);
  return out;
}

/** One window with the whole source as its segment: COPY prefix, ADD middle, COPY suffix. */
export function vcdiff(source: Buffer, target: Buffer): Buffer {
  const max = Math.min(source.length, target.length);
  let pre = 0;
  while (pre < max && source[pre] === target[pre]) pre++;
  let suf = 0;
  while (suf < max - pre && source[source.length - 1 - suf] === target[target.length - 1 - suf]) suf++;
  // Short copies cost more than they save; explicit sizes keep every COPY valid whatever its length.
  if (pre < 4) pre = 0;
  if (suf < 4) suf = 0;
  const data = target.subarray(pre, target.length - suf);
  const inst: number[] = [];
  const addr: number[] = [];
  // Default code table: 1 = ADD with explicit size, 19 = COPY mode 0 (address as is) with explicit size.
  if (pre) inst.push(19, ...varint(pre)), addr.push(...varint(0));
  if (data.length) inst.push(1, ...varint(data.length));
  if (suf) inst.push(19, ...varint(suf)), addr.push(...varint(source.length - suf));
  const body = [...varint(target.length), 0, ...varint(data.length), ...varint(inst.length), ...varint(addr.length)];
  const encodingLength = body.length + data.length + inst.length + addr.length;
  const header = [0xd6, 0xc3, 0xc4, 0x00, 0x00, 0x01, ...varint(source.length), ...varint(0), ...varint(encodingLength)];
  return Buffer.concat([Buffer.from([...header, ...body]), data, Buffer.from(inst), Buffer.from(addr)]);
}
