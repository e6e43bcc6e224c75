/** Channel names as clients write them: an optional `[?param=value]` qualifier, then the name. */
import { MODE_BY_NAME } from './protocol/constants.ts';
import { Errors } from './protocol/errors.ts';

export interface ChannelName {
  base: string;
  params: Record<string, string>;
}

export function parseChannelName(name: string): ChannelName {
  let base = name;
  const params: Record<string, string> = {};
  // Qualifiers: `[?a=1&b=2]name` (params) and `[filter=<base64>?a=1]name` (a derived channel, see filter.ts).
  if (name.startsWith('[?') || name.startsWith('[filter=')) {
    const end = name.indexOf(']');
    if (end < 0) throw Errors.invalidChannelName(`Invalid channel name "${name}": unterminated qualifier`);
    let query = name.slice(1, end);
    if (query.startsWith('filter=')) {
      const q = query.indexOf('?');
      params.filter = q < 0 ? query.slice(7) : query.slice(7, q);
      query = q < 0 ? '' : query.slice(q);
    }
    // Not URLSearchParams: form decoding would turn a '+' into a space.
    for (const pair of query.slice(1).split('&')) {
      const eq = pair.indexOf('=');
      if (pair) params[unescape(eq < 0 ? pair : pair.slice(0, eq), name)] = eq < 0 ? '' : unescape(pair.slice(eq + 1), name);
    }
    base = name.slice(end + 1);
  }
  if (!base) throw Errors.invalidChannelName('Invalid channel name: empty');
  // A leading ':' would be an empty namespace, which Ably refuses rather than reading as a name.
  if (base.startsWith(':')) throw Errors.invalidChannelName(`Invalid channel name "${base.slice(0, 100)}": it cannot start with ':'`);
  if (base.length > 2048) throw Errors.invalidChannelName('Invalid channel name: longer than 2048 characters');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(base)) throw Errors.invalidChannelName('Invalid channel name: control characters are not allowed');
  return { base, params };
}

export type Rewind = { count: number } | { sinceMs: number };

/** Ably's `rewind` channel param: a message count ("10") or a duration ("30s", "2m", "1h"). At most 100 messages. */
export function parseRewind(value: string | undefined): Rewind | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d+)(s|m|h)?$/.exec(value);
  if (!m) throw Errors.badRequest(`Invalid rewind param "${value}": expected a count like "10" or a duration like "2m"`);
  const n = Number(m[1]);
  if (!m[2]) return { count: Math.min(n, 100) };
  const unit = m[2] === 's' ? 1000 : m[2] === 'm' ? 60_000 : 3_600_000;
  return { sinceMs: n * unit };
}

/** Ably's `modes` channel param ("subscribe,presence_subscribe") as mode flags; undefined when absent. */
export function parseModesParam(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  let flags = 0;
  for (const raw of value.split(',')) {
    const bit = MODE_BY_NAME[raw.trim().toLowerCase()];
    if (bit === undefined) throw Errors.badRequest(`Invalid modes param "${value}": unknown mode "${raw.trim()}"`);
    flags |= bit;
  }
  return flags;
}

function unescape(s: string, name: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw Errors.invalidChannelName(`Invalid channel name "${name.slice(0, 100)}": bad escape in its qualifier`);
  }
}
