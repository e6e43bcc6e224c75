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

export async function writePost(c: pg.PoolClient, op: Extract<ChatOp, { kind: 'post' }>): Promise<{ result: Outcome; settled: HeldSettlement[] }> {
  await c.query(LOCK, [op.id]);
  const ins = await c.query(
    `INSERT INTO chat_messages (id, room, author, username, text) VALUES ($1, $2, $3, $3, $4)
     ON CONFLICT (id) DO NOTHING RETURNING id`,
    [op.id, op.room, op.author, op.text],
  );
  if (ins.rowCount === 0) {
    const existing = await c.query<MessageRow>('SELECT room, author, deleted FROM chat_messages WHERE id = $1', [op.id]);
    const row = existing.rows[0];
    if (row && row.author === op.author && row.room === op.room) return { result: { outcome: 'duplicate' }, settled: [] };
    const result = await rejectInTx(c, op, 'id_conflict', 'a different message already has this id');
    return { result, settled: [] };
  }
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
        ? { kind: 'edit', id: h.op_id, room: h.room, author: h.author, ts: Number(h.op_ts), name: 'chat.edit', target: op.id, text: h.text ?? '' }
        : { kind: 'delete', id: h.op_id, room: h.room, author: h.author, ts: Number(h.op_ts), name: 'chat.delete', target: op.id };
    const row = (await c.query<MessageRow>('SELECT room, author, deleted FROM chat_messages WHERE id = $1 FOR UPDATE', [op.id])).rows[0]!;
    const r = await applyToRow(c, heldOp, row);
    settled.push(r.outcome === 'rejected' ? { opId: h.op_id, outcome: 'rejected', reason: r.reason } : { opId: h.op_id, outcome: 'applied' });
  }
  return { result: { outcome: 'applied' }, settled };
}

export async function writeEditOrDelete(c: pg.PoolClient, op: EditOrDelete): Promise<Outcome> {
  await c.query(LOCK, [op.target]);
  const ins = await c.query(
    `INSERT INTO chat_ops (op_id, message_id, room, author, kind, text, op_ts, state)
     VALUES ($1, $2, $3, $4, $5, $6, $7, 'held') ON CONFLICT (op_id) DO NOTHING RETURNING op_id`,
    [op.id, op.target, op.room, op.author, op.kind, op.kind === 'edit' ? op.text : null, op.ts],
  );
  if (ins.rowCount === 0) return { outcome: 'duplicate' };
  const row = (await c.query<MessageRow>('SELECT room, author, deleted FROM chat_messages WHERE id = $1 FOR UPDATE', [op.target])).rows[0];
  if (row) return applyToRow(c, op, row);
  const refused = await c.query('SELECT 1 FROM chat_write_rejections WHERE message_id = $1 LIMIT 1', [op.target]);
  if (refused.rowCount) return rejectOp(c, op, 'target_rejected', `the post ${op.target} was itself rejected`);
  return { outcome: 'held' };
}

/** Applies an edit or delete whose op row exists (state 'held') to an existing message. */
async function applyToRow(c: pg.PoolClient, op: EditOrDelete, row: MessageRow): Promise<Outcome> {
  if (row.room !== op.room) return rejectOp(c, op, 'wrong_room', `message ${op.target} is not in room ${op.room}`);
  if (row.author !== op.author) return rejectOp(c, op, 'not_author', `${op.author} is not the author of ${op.target}`);
  if (op.kind === 'delete') {
    if (row.deleted) return rejectOp(c, op, 'already_deleted', `message ${op.target} is already deleted`);
    await c.query(`UPDATE chat_messages SET deleted = true, version = version + 1, updated_at = clock_timestamp() WHERE id = $1`, [op.target]);
  } else {
    const newest = await c.query<{ op_ts: string; op_id: string }>(
      `SELECT op_ts, op_id FROM chat_ops WHERE message_id = $1 AND kind = 'edit' AND state = 'applied'
       ORDER BY op_ts DESC, op_id DESC LIMIT 1`,
      [op.target],
    );
    const prev = newest.rows[0];
    const isNewest = !prev || op.ts > Number(prev.op_ts) || (op.ts === Number(prev.op_ts) && op.id > prev.op_id);
    await c.query(
      `UPDATE chat_messages SET version = version + 1, edited = true,
         text = CASE WHEN $2 THEN $3 ELSE text END, updated_at = clock_timestamp() WHERE id = $1`,
      [op.target, isNewest, op.text],
    );
  }
  await c.query(`UPDATE chat_ops SET state = 'applied', settled_at = clock_timestamp() WHERE op_id = $1`, [op.id]);
  return { outcome: 'applied' };
}

async function rejectOp(c: pg.PoolClient, op: EditOrDelete, reason: RejectReason, detail: string): Promise<Outcome> {
  await c.query(`UPDATE chat_ops SET state = 'rejected', settled_at = clock_timestamp() WHERE op_id = $1`, [op.id]);
  return rejectInTx(c, op, reason, detail);
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
