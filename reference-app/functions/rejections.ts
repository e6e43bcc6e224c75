/**
 * The author's refusals: GET /api/rejections?ids=<id>,<id>…
 *
 * The chat-writer runs behind the integration rule, so nothing it decides travels back on the
 * publish. It records every refusal in chat_write_rejections; this endpoint hands the signed-in
 * user the refusals of their own writes among the ids they ask about (posts by message id, edits
 * and deletes by their op id). A browser asks only while one of its writes is unconfirmed, so
 * the cost is nil for a healthy room. Nobody learns of another user's refusals: the author
 * column is the realtime clientId, which is the session's user.
 *
 * AWS entry: `handler`, configured by DATABASE_URL and SESSION_SECRET.
 */
import pg from 'pg';
import { databaseEntry, fail, json, type HttpHandler } from './http.ts';
import { noSession, sessionFromEnv, type SessionService } from './session.ts';

const MAX_IDS = 100;
const MAX_ID_CHARS = 256;

export interface RejectionView {
  id: string;
  reason: string;
}

export function createRejectionsHandler(opts: { pool: pg.Pool; session: SessionService }): HttpHandler {
  return async (event) => {
    if (event.requestContext.http.method !== 'GET') return fail(405, 'method', 'expected GET');
    const s = await opts.session.read(event);
    if (!s) return noSession();
    const raw = event.queryStringParameters?.ids ?? '';
    const ids = raw.split(',').filter((x) => x.length > 0);
    if (ids.length === 0 || ids.length > MAX_IDS || ids.some((x) => x.length > MAX_ID_CHARS)) {
      return fail(400, 'ids', `expected 1..${MAX_IDS} comma-separated message ids of at most ${MAX_ID_CHARS} characters`);
    }
    const res = await opts.pool.query<RejectionView>(
      `SELECT DISTINCT ON (message_id) message_id AS id, reason FROM chat_write_rejections
       WHERE author = $1 AND message_id = ANY($2::text[]) ORDER BY message_id, seq`,
      [s.clientId, ids],
    );
    return json(200, { rejections: res.rows });
  };
}

/** AWS Lambda entry point. */
export const handler: HttpHandler = databaseEntry((pool) => createRejectionsHandler({ pool, session: sessionFromEnv() }));
