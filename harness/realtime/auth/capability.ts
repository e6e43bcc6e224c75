/**
 * Ably capabilities: a map from channel resource to operations (`*` as an operation grants all).
 */
import { z } from 'zod';
import { AblyError, Errors } from '../protocol/errors.ts';

export type Capability = Record<string, string[]>;
export type Operation = 'publish' | 'subscribe' | 'presence' | 'history' | 'channel-metadata' | 'annotation-publish' | 'annotation-subscribe';

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
  for (const [resource, ops] of Object.entries(r.data)) {
    const unknown = ops.find((o) => !KNOWN_OPERATIONS.has(o));
    if (unknown !== undefined) throw new AblyError(40000, 400, `Invalid capability: unknown operation "${unknown}" for resource "${resource}"`);
    // '*' already means every operation: Ably refuses a list that also names some.
    if (ops.includes('*') && ops.length > 1) throw new AblyError(40000, 400, `Invalid capability: "*" cannot be combined with other operations for resource "${resource}"`);
  }
  return r.data;
}

/** The operations Ably's capabilities can name. */
const KNOWN_OPERATIONS = new Set([
  '*', 'publish', 'subscribe', 'presence', 'history', 'stats', 'channel-metadata', 'push-subscribe', 'push-admin',
  'privileged-headers', 'annotation-publish', 'annotation-subscribe', 'object-publish', 'object-subscribe',
  'message-update-own', 'message-update-any', 'message-delete-own', 'message-delete-any',
]);

/** Sorted resources and operations, as the SDK canonicalises before signing. */
export function canonicalCapability(c: Capability): string {
  const out: Capability = {};
  for (const k of Object.keys(c).sort()) out[k] = [...(c[k] ?? [])].sort();
  return JSON.stringify(out);
}

/**
 * Ably's matching rules: a `*` replaces one whole `:`-separated segment, or any number of
 * segments when it is the last one; `foo*` is literal. `[queue]`/`[meta]` resources only match
 * their own kind, except `[*]*` which matches everything.
 */
export function resourceMatches(pattern: string, channel: string): boolean {
  if (pattern === '[*]*') return true;
  const [pKind, pName] = splitQualifier(pattern);
  const [cKind, cName] = splitQualifier(channel);
  if (pKind !== cKind) return false;
  const ps = pName.split(':');
  const cs = cName.split(':');
  for (let i = 0; i < ps.length; i++) {
    if (i >= cs.length) return false;
    if (ps[i] === '*') {
      if (i === ps.length - 1) return true;
      continue;
    }
    if (ps[i] !== cs[i]) return false;
  }
  return ps.length === cs.length;
}

function splitQualifier(name: string): [string, string] {
  if (!name.startsWith('[')) return ['', name];
  const end = name.indexOf(']');
  return end < 0 ? ['', name] : [name.slice(0, end + 1), name.slice(end + 1)];
}

/** True when every channel `other` matches is also matched by `pattern` (`other`'s wildcards read literally). */
const covers = (pattern: string, other: string): boolean => resourceMatches(pattern, other);

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
