/**
 * Ably capabilities: a map from channel resource to operations. A resource is a channel name,
 * `*` (every channel), or a prefix ending in `*` (`chat:*`); `*` as an operation grants all.
 */
import { z } from 'zod';
import { AblyError, Errors } from '../protocol/errors.ts';

export type Capability = Record<string, string[]>;
export type Operation = 'publish' | 'subscribe' | 'presence' | 'history' | 'channel-metadata';

export const capabilitySchema = z.record(z.string().min(1), z.array(z.string().min(1)).min(1));

export const FULL_CAPABILITY: Capability = { '*': ['*'] };

export function parseCapability(json: string): Capability {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new AblyError(40000, 400, 'Invalid capability: not JSON');
  }
  const r = capabilitySchema.safeParse(raw);
  if (!r.success) throw new AblyError(40000, 400, 'Invalid capability: expected {"resource": ["operation", ...]}');
  return r.data;
}

/** Sorted resources and operations, as the SDK canonicalises before signing. */
export function canonicalCapability(c: Capability): string {
  const out: Capability = {};
  for (const k of Object.keys(c).sort()) out[k] = [...(c[k] ?? [])].sort();
  return JSON.stringify(out);
}

/** True when resource pattern `pattern` covers every channel that `other` names. */
function covers(pattern: string, other: string): boolean {
  if (pattern === other || pattern === '*' || pattern === '[*]*') return true;
  return pattern.endsWith('*') && other.startsWith(pattern.slice(0, -1));
}

export function resourceMatches(pattern: string, channel: string): boolean {
  if (pattern === '[*]*') return true;
  if (pattern === '*') return !channel.startsWith('[');
  if (pattern.endsWith('*')) return channel.startsWith(pattern.slice(0, -1));
  return pattern === channel;
}

export function allows(cap: Capability, channel: string, op: Operation): boolean {
  for (const [res, ops] of Object.entries(cap)) {
    if (resourceMatches(res, channel) && (ops.includes('*') || ops.includes(op))) return true;
  }
  return false;
}

function intersectOps(a: string[], b: string[]): string[] {
  if (a.includes('*')) return [...b];
  if (b.includes('*')) return [...a];
  return a.filter((o) => b.includes(o));
}

/**
 * What a token may do when its key allows `keyCap` and the request asks for `requested`:
 * each requested resource narrowed to what the key allows. Empty result: 40160, as Ably does.
 */
export function intersect(keyCap: Capability, requested: Capability): Capability {
  const out: Record<string, Set<string>> = {};
  const add = (res: string, ops: string[]) => {
    const set = (out[res] ??= new Set());
    for (const o of ops) set.add(o);
  };
  for (const [r, rops] of Object.entries(requested)) {
    for (const [k, kops] of Object.entries(keyCap)) {
      const ops = intersectOps(rops, kops);
      if (!ops.length) continue;
      if (covers(k, r)) add(r, ops);
      else if (covers(r, k)) add(k, ops);
    }
  }
  const result: Capability = {};
  for (const [res, ops] of Object.entries(out)) if (ops.size) result[res] = ops.has('*') ? ['*'] : [...ops];
  if (!Object.keys(result).length) throw Errors.notPermitted('Invalid capability: the requested capability is not allowed by the key');
  return result;
}
