/**
 * Ably's application statistics: `GET /stats` (`rest.stats()`) and the sandbox's `POST /stats`
 * that loads fixtures. Fixtures come in Ably's older nested shape
 * (`{intervalId, inbound: {realtime: {messages: {count, data}}}, ...}`) and are answered in the
 * current one: flat `entries` ("messages.inbound.realtime.messages.count", plus the
 * ".all." totals over transports), per minute, or summed per hour, day or month (`unit`, or
 * `by`). The interval in progress is the service's own counters: all apps together, since start.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { RealtimeCore } from '../core.ts';
import type { Format } from '../protocol/constants.ts';
import { Errors } from '../protocol/errors.ts';
import { authenticate } from './rest-auth.ts';
import { readDecoded, send } from './respond.ts';

type Unit = 'minute' | 'hour' | 'day' | 'month';
type Entries = Record<string, number>;
const SCHEMA = 'https://schemas.ably.com/json/app-stats-0.0.5.json';
const ID_LENGTH: Record<Unit, number> = { minute: 16, hour: 13, day: 10, month: 7 };

/** Fixture minutes per app (by appId), keyed by the minute's start in ms. */
const fixtures = new WeakMap<RealtimeCore, Map<string, Map<number, Entries>>>();

const fixtureSchema = z.array(z.object({ intervalId: z.string().regex(/^\d{4}-\d{2}-\d{2}:\d{2}:\d{2}$/, 'intervalId: expected "YYYY-MM-DD:hh:mm"') }).loose());

const queryNumber = z.union([z.coerce.number().int().min(0), z.string().regex(/^\d{4}-\d{2}(-\d{2}(:\d{2}(:\d{2})?)?)?$/)]);
const querySchema = z.object({
  start: queryNumber.optional(),
  end: queryNumber.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  direction: z.enum(['backwards', 'forwards']).default('backwards'),
  unit: z.enum(['minute', 'hour', 'day', 'month']).optional(),
  by: z.enum(['minute', 'hour', 'day', 'month']).optional(),
  /** Paging: the start of the previous page's last interval (only intervals beyond it follow). */
  cursor: z.coerce.number().int().min(0).optional(),
});

const appOf = (keyName: string) => keyName.slice(0, keyName.indexOf('.'));

/** "YYYY-MM-DD:hh:mm" (or a prefix of it) as the UTC ms of its start. */
function intervalStart(id: string): number {
  const [date = '', hh = '00', mm = '00'] = id.split(':');
  const [y, mo = '01', d = '01'] = date.split('-');
  return Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(hh), Number(mm));
}

function intervalId(ms: number, unit: Unit): string {
  const iso = new Date(ms).toISOString(); // 2025-02-03T15:03:00.000Z
  return `${iso.slice(0, 10)}:${iso.slice(11, 16)}`.slice(0, ID_LENGTH[unit]);
}

const asMs = (v: number | string | undefined) => (v === undefined ? undefined : typeof v === 'number' ? v : intervalStart(v));

/** The nested fixture as flat entries; message counts also add to the ".all." transport totals. */
function flatten(fixture: Record<string, unknown>): Entries {
  const out: Entries = {};
  const walk = (v: unknown, path: string[]) => {
    if (typeof v === 'number') {
      const [dir] = path;
      if (dir === 'inbound' || dir === 'outbound') {
        add(out, ['messages', ...path].join('.'), v);
        add(out, ['messages', dir, 'all', ...path.slice(2)].join('.'), v);
      } else add(out, path.join('.'), v);
    } else if (v && typeof v === 'object') for (const [k, c] of Object.entries(v)) walk(c, [...path, k]);
  };
  for (const [k, v] of Object.entries(fixture)) if (k !== 'intervalId') walk(v, [k]);
  return out;
}

function add(e: Entries, key: string, v: number): void {
  e[key] = (e[key] ?? 0) + v;
}

export async function postStats(core: RealtimeCore, req: IncomingMessage, res: ServerResponse, url: URL, fmt: Format): Promise<void> {
  const caller = authenticate(core, req, url);
  if (caller.identity.method !== 'basic') throw Errors.basicAuthRequired('Stats fixtures need Basic authentication with one of the app\'s keys');
  const parsed = fixtureSchema.safeParse(await readDecoded(req, 1 << 20));
  if (!parsed.success) throw Errors.badRequest(`Invalid stats fixtures: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`);
  let apps = fixtures.get(core);
  if (!apps) fixtures.set(core, (apps = new Map()));
  const app = appOf(caller.identity.keyName);
  const minutes = apps.get(app) ?? new Map<number, Entries>();
  apps.set(app, minutes);
  for (const f of parsed.data) minutes.set(intervalStart(f.intervalId), flatten(f));
  send(res, 201, parsed.data.map((f) => ({ intervalId: f.intervalId })), fmt);
}

export async function getStats(core: RealtimeCore, req: IncomingMessage, res: ServerResponse, url: URL, fmt: Format): Promise<void> {
  const caller = authenticate(core, req, url);
  const parsed = querySchema.safeParse(Object.fromEntries(url.searchParams));
  if (!parsed.success) throw Errors.badRequest(`Invalid stats parameter ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`);
  const q = parsed.data;
  const unit: Unit = q.unit ?? q.by ?? 'minute';
  const appId = appOf(caller.identity.keyName);
  const buckets = new Map<string, Entries>();
  for (const [ms, entries] of fixtures.get(core)?.get(appId) ?? []) {
    const id = intervalId(ms, unit);
    const sum = buckets.get(id) ?? {};
    for (const [k, v] of Object.entries(entries)) add(sum, k, v);
    buckets.set(id, sum);
  }
  const now = intervalId(Date.now(), unit);
  const live = buckets.get(now) ?? {};
  add(live, 'messages.inbound.all.messages.count', core.stats.messagesIn);
  add(live, 'messages.outbound.all.messages.count', core.stats.messagesOut);
  buckets.set(now, live);
  const [start, end] = [asMs(q.start), asMs(q.end)];
  const back = q.direction === 'backwards';
  const beyondCursor = (t: number) => q.cursor === undefined || (back ? t < q.cursor : t > q.cursor);
  const inRange = [...buckets.keys()].filter((id) => {
    const t = intervalStart(id);
    return (start === undefined || t >= start) && (end === undefined || t <= end) && beyondCursor(t);
  }).sort();
  if (back) inRange.reverse();
  const page = inRange.slice(0, q.limit);
  const items = page.map((id) => ({ appId, intervalId: id, unit, schema: SCHEMA, entries: buckets.get(id)!, ...(id === now ? { inProgress: new Date().toISOString().slice(0, 19) } : {}) }));
  send(res, 200, items, fmt, { link: statsLinks(q, unit, inRange.length > q.limit ? page.at(-1) : undefined) });
}

/** `first` (the same range from its beginning) and, when more intervals follow, `next` (past the page's last interval). */
function statsLinks(q: z.infer<typeof querySchema>, unit: Unit, last: string | undefined): string {
  const base = new URLSearchParams({ limit: String(q.limit), direction: q.direction, unit });
  if (q.start !== undefined) base.set('start', String(asMs(q.start)));
  if (q.end !== undefined) base.set('end', String(asMs(q.end)));
  const links = [`<./stats?${base}>; rel="first"`];
  if (last !== undefined) {
    const next = new URLSearchParams(base);
    next.set('cursor', String(intervalStart(last)));
    links.push(`<./stats?${next}>; rel="next"`);
  }
  return links.join(', ');
}
