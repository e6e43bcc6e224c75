/**
 * The chat-writer's database work, one transaction per operation. Every transaction first takes
 * an advisory lock on the id of the post it concerns, so a post and the edits racing it are
 * serialised: either the edit sees the row, or the post sees the held edit and applies it.
 *
 * The final state does not depend on delivery order: each distinct edit or delete bumps the
 * version once, `deleted` is sticky, and the text is that of the edit published last (realtime
 * timestamp, then id), whichever arrives last.
 */
import type pg from 'pg';
import { MESSAGE_NAMES } from '../contract/index.ts';
import type { ChatOp, RejectReason, Rejection } from './envelope.ts';

export type Outcome =
  | { outcome: 'applied' }
  | { outcome: 'duplicate' }
  | { outcome: 'held' }
  | { outcome: 'rejected'; reason: RejectReason; detail: string };

export interface HeldSettlement {
  opId: string;
  outcome: 'applied' | 'rejected';
  reason?: RejectReason;
}

type EditOrDelete = Extract<ChatOp, { kind: 'edit' | 'delete' }>;
interface HeldRow {
  op_id: string;
  room: string;
  author: string;
  kind: 'edit' | 'delete';
  text: string | null;
  op_ts: string;
}
interface MessageRow {
  room: string;
  author: string;
  deleted: boolean;
}

const LOCK = 'SELECT pg_advisory_xact_lock(hashtextextended($1, 7301))';

/**
 * Opens a transaction already holding the lock on one post id, in a single round trip (a simple
 * multi-statement query cannot take parameters, hence the escaped literal).
 */
export async function beginLocked(c: pg.PoolClient, postId: string): Promise<void> {
  await c.query(`BEGIN; SELECT pg_advisory_xact_lock(hashtextextended(${c.escapeLiteral(postId)}, 7301))`);
}

/**
 * Planted defects for the harness's self-check, never set in a deployment: `lastArrivalWins`
 * gives a row the text of whichever edit arrives last; `postRevertsText` lets a redelivered post
 * put its text back without a new version; `heldNoAuthorCheck` applies the edits and deletes held
 * for a post, once it arrives, without checking their author.
 */
export interface WriteDefects {
  lastArrivalWins?: boolean;
  postRevertsText?: boolean;
  heldNoAuthorCheck?: boolean;
}

type PostOp = Extract<ChatOp, { kind: 'post' }>;
type Param = string | number | boolean | null;

/** Runs one statement of a transaction (see lockedStart). */
export type Statement = <R extends pg.QueryResultRow>(sql: string, params: readonly Param[]) => Promise<pg.QueryResult<R>>;

/**
 * A transaction on one post's lock that opens with its first statement: BEGIN, the lock and that
 * statement leave in one round trip (a multi-statement simple query) instead of two, since an
 * idle writer's latency is mostly round trips. That statement still runs after the lock, so its
 * snapshot sees every hold committed before. A simple query cannot take parameters, hence
 * literals; a value a literal could not carry exactly as a parameter does (a NUL, which would end
 * the query text; a number that is not a safe integer, which a parameter refuses as a data error)
 * makes the opening two round trips, as before. Later statements are ordinary queries.
 */
export function lockedStart(c: pg.PoolClient, postId: string): { run: Statement; begun(): boolean } {
  let begun = false;
  const run: Statement = async <R extends pg.QueryResultRow>(sql: string, params: readonly Param[]) => {
    if (begun) return c.query<R>(sql, params as Param[]);
    begun = true;
    const inline = inlined(c, sql, params);
    if (inline === undefined || postId.includes('\0')) {
      await beginLocked(c, postId);
      return c.query<R>(sql, params as Param[]);
    }
    const results = (await c.query(`BEGIN; SELECT pg_advisory_xact_lock(hashtextextended(${c.escapeLiteral(postId)}, 7301)); ${inline}`)) as unknown as Array<pg.QueryResult<R>>;
    return results[results.length - 1]!;
  };
  return { run, begun: () => begun };
}

/** `sql` with its $n parameters written as literals, or undefined when one cannot be written exactly. */
function inlined(c: pg.PoolClient, sql: string, params: readonly Param[]): string | undefined {
  const literals: string[] = [];
  for (const v of params) {
    if (v === null) literals.push('NULL');
    else if (typeof v === 'boolean') literals.push(String(v));
    else if (typeof v === 'number') {
      if (!Number.isSafeInteger(v)) return undefined;
      literals.push(`(${v})`);
    } else {
      if (v.includes('\0')) return undefined;
      literals.push(c.escapeLiteral(v));
    }
  }
  return sql.replace(/\$(\d+)/g, (_, n: string) => literals[Number(n) - 1] ?? 'NULL');
}

/**
 * The common post, with nothing held for it, in one round trip: BEGIN, the lock, an INSERT that
 * writes only when no edit or delete waits for this id, and COMMIT. Its transaction commits
 * without a second round trip, so the change reaches the connector one writer-to-Postgres round
 * trip sooner. The INSERT runs after the lock, so a hold committed before is seen, and a post
 * with holds is not written here: its holds must be applied in the same transaction, so that a
 * delete that overtook its post never lets the message appear. True when the row was inserted and
 * committed; false when nothing was written (a hold, a duplicate, an id conflict, or a value a
 * literal cannot carry exactly): the caller then takes the full path (writePost).
 */
export async function postInOneTrip(c: pg.PoolClient, op: PostOp): Promise<boolean> {
  const insert = inlined(
    c,
    `INSERT INTO chat_messages (id, room, author, username, text, sent_at, client_seq)
     SELECT $1::text, $2::text, $3::text, $3::text, $4::text, 'epoch'::timestamptz + $5::bigint * interval '1 millisecond', $6::bigint
     WHERE NOT EXISTS (SELECT 1 FROM chat_ops WHERE message_id = $1::text AND state = 'held')
     ON CONFLICT (id) DO NOTHING`,
    [op.id, op.room, op.author, op.text, Math.trunc(op.ts), op.seq],
  );
  if (insert === undefined) return false;
  const results = (await c.query(`BEGIN; SELECT pg_advisory_xact_lock(hashtextextended(${c.escapeLiteral(op.id)}, 7301)); ${insert}; COMMIT`)) as unknown as pg.QueryResult[];
  return results[2]?.rowCount === 1;
}

const plainStatement =
  (c: pg.PoolClient): Statement =>
  <R extends pg.QueryResultRow>(sql: string, params: readonly Param[]) =>
    c.query<R>(sql, params as Param[]);

/** Inside a transaction holding the lock on op.id (beginLocked), or one that `run` opens (lockedStart). */
export async function writePost(c: pg.PoolClient, op: PostOp, defects: WriteDefects = {}, run: Statement = plainStatement(c)): Promise<{ result: Outcome; settled: HeldSettlement[] }> {
  // The statement's snapshot is taken after the lock, so it sees every hold committed before.
  const ins = await run<{ held: boolean }>(
    `INSERT INTO chat_messages (id, room, author, username, text, sent_at, client_seq)
     VALUES ($1, $2, $3, $3, $4, 'epoch'::timestamptz + $5::bigint * interval '1 millisecond', $6)
     ON CONFLICT (id) DO NOTHING
     RETURNING EXISTS (SELECT 1 FROM chat_ops WHERE message_id = $1 AND state = 'held') AS held`,
    [op.id, op.room, op.author, op.text, Math.trunc(op.ts), op.seq],
  );
  if (ins.rowCount === 0) {
    const existing = await c.query<MessageRow>('SELECT room, author, deleted FROM chat_messages WHERE id = $1', [op.id]);
    const row = existing.rows[0];
    if (row && row.author === op.author && row.room === op.room) {
      if (defects.postRevertsText) await c.query('UPDATE chat_messages SET text = $2 WHERE id = $1 AND NOT deleted AND text <> $2', [op.id, op.text]);
      return { result: { outcome: 'duplicate' }, settled: [] };
    }
    const result = await rejectInTx(c, op, 'id_conflict', 'a different message already has this id');
    return { result, settled: [] };
  }
  if (!ins.rows[0]?.held) return { result: { outcome: 'applied' }, settled: [] };
  // Edits and deletes that overtook this post were held; apply them now, in publish order.
  const held = await c.query<HeldRow>(
    `SELECT op_id, room, author, kind, text, op_ts FROM chat_ops
     WHERE message_id = $1 AND state = 'held' ORDER BY op_ts, op_id FOR UPDATE`,
    [op.id],
  );
  const settled: HeldSettlement[] = [];
  for (const h of held.rows) {
    const heldOp: EditOrDelete =
      h.kind === 'edit'
        ? { kind: 'edit', id: h.op_id, room: h.room, author: h.author, ts: Number(h.op_ts), name: MESSAGE_NAMES.edit, target: op.id, text: h.text ?? '' }
        : { kind: 'delete', id: h.op_id, room: h.room, author: h.author, ts: Number(h.op_ts), name: MESSAGE_NAMES.delete, target: op.id };
    const row = (await c.query<MessageRow>('SELECT room, author, deleted FROM chat_messages WHERE id = $1', [op.id])).rows[0]!;
    const r = await applyToRow(c, heldOp, defects.heldNoAuthorCheck ? { ...row, author: heldOp.author } : row, defects);
    settled.push(r.outcome === 'rejected' ? { opId: h.op_id, outcome: 'rejected', reason: r.reason } : { opId: h.op_id, outcome: 'applied' });
  }
  return { result: { outcome: 'applied' }, settled };
}

/** Inside a transaction holding the lock on op.target (beginLocked), or one that `run` opens (lockedStart). */
export async function writeEditOrDelete(c: pg.PoolClient, op: EditOrDelete, defects: WriteDefects = {}, run: Statement = plainStatement(c)): Promise<Outcome> {
  const r = await run<{ inserted: boolean; room: string | null; author: string | null; deleted: boolean | null; refused: boolean }>(
    `WITH ins AS (
       INSERT INTO chat_ops (op_id, message_id, room, author, kind, text, op_ts, state)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 'held') ON CONFLICT (op_id) DO NOTHING RETURNING op_id)
     SELECT EXISTS (SELECT 1 FROM ins) AS inserted, m.room, m.author, m.deleted,
            EXISTS (SELECT 1 FROM chat_write_rejections WHERE message_id = $2) AS refused
     FROM (SELECT 1) AS one LEFT JOIN chat_messages m ON m.id = $2`,
    [op.id, op.target, op.room, op.author, op.kind, op.kind === 'edit' ? op.text : null, op.ts],
  );
  const x = r.rows[0]!;
  if (!x.inserted) return { outcome: 'duplicate' };
  if (x.room !== null && x.author !== null) return applyToRow(c, op, { room: x.room, author: x.author, deleted: x.deleted === true }, defects);
  if (x.refused) return rejectOp(c, op, 'target_rejected', `the post ${op.target} was itself rejected`);
  return { outcome: 'held' };
}

/**
 * Applies an edit or delete whose op row exists (state 'held') to an existing message, in one
 * statement. The advisory lock serialises every writer of this message, so no row lock is needed.
 */
async function applyToRow(c: pg.PoolClient, op: EditOrDelete, row: MessageRow, defects: WriteDefects = {}): Promise<Outcome> {
  if (row.room !== op.room) return rejectOp(c, op, 'wrong_room', `message ${op.target} is not in room ${op.room}`);
  if (row.author !== op.author) return rejectOp(c, op, 'not_author', `${op.author} is not the author of ${op.target}`);
  if (op.kind === 'delete') {
    if (row.deleted) return rejectOp(c, op, 'already_deleted', `message ${op.target} is already deleted`);
    await c.query(
      `WITH m AS (UPDATE chat_messages SET deleted = true, version = version + 1, updated_at = clock_timestamp() WHERE id = $1)
       UPDATE chat_ops SET state = 'applied', settled_at = clock_timestamp() WHERE op_id = $2`,
      [op.target, op.id],
    );
  } else {
    // The text changes only if this edit was published after every edit applied so far.
    await c.query(
      `WITH prev AS (
         SELECT op_ts, op_id FROM chat_ops WHERE message_id = $1 AND kind = 'edit' AND state = 'applied'
         ORDER BY op_ts DESC, op_id COLLATE "C" DESC LIMIT 1),
       m AS (
         UPDATE chat_messages SET version = version + 1, edited = true, updated_at = clock_timestamp(),
           text = CASE WHEN $5::boolean OR NOT EXISTS (SELECT 1 FROM prev)
                         OR ($4::bigint, $2::text COLLATE "C") > (SELECT op_ts, op_id COLLATE "C" FROM prev)
                       THEN $3 ELSE text END
         WHERE id = $1)
       UPDATE chat_ops SET state = 'applied', settled_at = clock_timestamp() WHERE op_id = $2`,
      [op.target, op.id, op.text, op.ts, defects.lastArrivalWins === true],
    );
  }
  return { outcome: 'applied' };
}

async function rejectOp(c: pg.PoolClient, op: EditOrDelete, reason: RejectReason, detail: string): Promise<Outcome> {
  await c.query(
    `WITH o AS (UPDATE chat_ops SET state = 'rejected', settled_at = clock_timestamp() WHERE op_id = $1)
     INSERT INTO chat_write_rejections (message_id, room, author, name, reason) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (message_id, reason) DO NOTHING`,
    [op.id, op.room, op.author, op.name, reason],
  );
  return { outcome: 'rejected', reason, detail };
}

async function rejectInTx(c: pg.PoolClient, op: ChatOp, reason: RejectReason, detail: string): Promise<Outcome> {
  await insertRejection(c, { id: op.id, room: op.room, author: op.author, name: op.name, reason, detail });
  return { outcome: 'rejected', reason, detail };
}

export async function insertRejection(c: pg.PoolClient | pg.Pool, r: Rejection): Promise<void> {
  await c.query(
    `INSERT INTO chat_write_rejections (message_id, room, author, name, reason) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (message_id, reason) DO NOTHING`,
    [r.id, r.room, r.author, r.name, r.reason],
  );
}

/** A rejected post can never arrive again: settle the edits and deletes held for it. */
export async function rejectHeldFor(c: pg.PoolClient, postId: string): Promise<number> {
  await c.query(LOCK, [postId]);
  const res = await c.query(
    `WITH settled AS (
       UPDATE chat_ops SET state = 'rejected', settled_at = clock_timestamp()
       WHERE message_id = $1 AND state = 'held' RETURNING op_id, room, author, kind)
     INSERT INTO chat_write_rejections (message_id, room, author, name, reason)
     SELECT op_id, room, author, 'chat.' || kind, 'target_rejected' FROM settled
     ON CONFLICT (message_id, reason) DO NOTHING`,
    [postId],
  );
  return res.rowCount ?? 0;
}

/** Held operations whose post never came within holdMs become 'unknown_target' rejections. */
export async function expireHeld(pool: pg.Pool, holdMs: number): Promise<number> {
  const res = await pool.query(
    `WITH expired AS (
       UPDATE chat_ops SET state = 'rejected', settled_at = clock_timestamp()
       WHERE state = 'held' AND received_at < clock_timestamp() - make_interval(secs => $1::double precision / 1000)
       RETURNING op_id, room, author, kind)
     INSERT INTO chat_write_rejections (message_id, room, author, name, reason)
     SELECT op_id, room, author, 'chat.' || kind, 'unknown_target' FROM expired
     ON CONFLICT (message_id, reason) DO NOTHING`,
    [holdMs],
  );
  return res.rowCount ?? 0;
}
