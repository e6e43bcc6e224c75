/**
 * Room history from the database: GET /api/rooms/{room}/messages?before=&limit=
 * Newest first, deleted rows excluded, paged by (created_at, id) with an opaque cursor: `next`
 * is the `before` of the following (older) page, null on the last page.
 *
 * Only for a signed-in user (a live session).
 *
 * AWS entry: `handler`, configured by DATABASE_URL and SESSION_SECRET.
 */
import pg from 'pg';
import { databaseEntry, fail, json, type HttpHandler } from './http.ts';
import { noSession, sessionFromEnv, type SessionService } from './session.ts';

const ROOM = /^[A-Za-z0-9_-]{1,64}$/;
const PATH = /^\/api\/rooms\/([^/]+)\/messages\/?$/;
const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 100;

interface Cursor {
  us: string; // created_at as integer microseconds since the epoch: exact, unlike a JS Date
  id: string;
}

function encodeCursor(c: Cursor): string {
  return Buffer.from(`${c.us}:${c.id}`).toString('base64url');
}

function decodeCursor(s: string): Cursor | null {
  const text = Buffer.from(s, 'base64url').toString('utf8');
  const i = text.indexOf(':');
  const us = text.slice(0, i);
  if (i <= 0 || !/^-?\d{1,19}$/.test(us)) return null;
  return { us, id: text.slice(i + 1) };
}

export function createHistoryHandler(opts: { pool: pg.Pool; session: SessionService }): HttpHandler {
  return async (event) => {
    if (event.requestContext.http.method !== 'GET') return fail(405, 'method', 'expected GET');
    if (!(await opts.session.read(event))) return noSession();
    const rawRoom = event.pathParameters?.room ?? PATH.exec(event.rawPath)?.[1];
    let room: string;
    try {
      room = decodeURIComponent(rawRoom ?? '');
    } catch {
      return fail(400, 'room', 'expected a percent-encoded room name');
    }
    if (!ROOM.test(room)) return fail(400, 'room', 'expected 1..64 characters of [A-Za-z0-9_-]');
    const q = event.queryStringParameters ?? {};
    let limit = DEFAULT_LIMIT;
    if (q.limit !== undefined && q.limit !== '') {
      if (!/^\d+$/.test(q.limit) || Number(q.limit) < 1 || Number(q.limit) > MAX_LIMIT) return fail(400, 'limit', `expected an integer from 1 to ${MAX_LIMIT}`);
      limit = Number(q.limit);
    }
    let before: Cursor | null = null;
    if (q.before) {
      before = decodeCursor(q.before);
      if (!before) return fail(400, 'before', 'expected the `next` cursor of a previous page');
    }
    // One row more than asked tells whether an older page exists.
    const res = await opts.pool.query<{ row: Record<string, unknown>; us: string; id: string }>(
      `SELECT to_jsonb(m) AS row, (extract(epoch FROM m.created_at) * 1000000)::bigint::text AS us, m.id
       FROM chat_messages m
       WHERE m.room = $1 AND NOT m.deleted
         AND ($2::bigint IS NULL OR (m.created_at, m.id) < ('epoch'::timestamptz + $2::bigint * interval '1 microsecond', $3::text))
       ORDER BY m.created_at DESC, m.id DESC
       LIMIT $4`,
      [room, before?.us ?? null, before?.id ?? '', limit + 1],
    );
    const page = res.rows.slice(0, limit);
    const last = page[page.length - 1];
    const next = res.rows.length > limit && last ? encodeCursor({ us: last.us, id: last.id }) : null;
    return json(200, { room, messages: page.map((r) => r.row), next });
  };
}

/** AWS Lambda entry point. */
export const handler: HttpHandler = databaseEntry((pool) => createHistoryHandler({ pool, session: sessionFromEnv() }));
