/**
 * The room list: GET /api/rooms -> { rooms: [{ room, lastAt, messages }] }, most recently active
 * first. Rooms have no registry (a room exists once someone talks in it), so this reads them off
 * the messages, so that rooms other people opened can be found.
 *
 * Only for a signed-in user (a live session).
 *
 * AWS entry: `handler`, configured by DATABASE_URL and SESSION_SECRET.
 */
import pg from 'pg';
import { databaseEntry, fail, json, type HttpHandler } from './http.ts';
import { noSession, sessionFromEnv, type SessionService } from './session.ts';

const MAX_ROOMS = 50;

export function createRoomsHandler(opts: { pool: pg.Pool; session: SessionService }): HttpHandler {
  return async (event) => {
    if (event.requestContext.http.method !== 'GET') return fail(405, 'method', 'expected GET');
    if (!(await opts.session.read(event))) return noSession();
    const res = await opts.pool.query<{ room: string; last_at: Date; messages: number }>(
      `SELECT room, max(created_at) AS last_at, count(*)::int AS messages FROM chat_messages
       WHERE NOT deleted GROUP BY room ORDER BY last_at DESC LIMIT $1`,
      [MAX_ROOMS],
    );
    return json(200, { rooms: res.rows.map((r) => ({ room: r.room, lastAt: r.last_at.toISOString(), messages: r.messages })) });
  };
}

/** AWS Lambda entry point. */
export const handler: HttpHandler = databaseEntry((pool) => createRoomsHandler({ pool, session: sessionFromEnv() }));
