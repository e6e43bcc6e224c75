/**
 * Leader election: a session-level advisory lock per schema. Exactly one instance holds it; the
 * lock goes with the holder's backend, so a killed instance frees it as soon as Postgres notices.
 */
import type pg from 'pg';
import { LEADER_LOCK_CLASS } from './sql.ts';

export async function tryLead(c: pg.ClientBase, schema: string): Promise<boolean> {
  const r = await c.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok', [LEADER_LOCK_CLASS, schema]);
  return r.rows[0]!.ok;
}

export async function resign(c: pg.ClientBase, schema: string): Promise<void> {
  await c.query('SELECT pg_advisory_unlock($1, hashtext($2))', [LEADER_LOCK_CLASS, schema]);
}

/**
 * After we lost a connection that held the lock, its backend may live on (a silently dropped
 * socket is only noticed by TCP keepalive, hours later) and keep the lock from everyone. We know
 * that connection is dead to us, so end its backend.
 */
export async function endStaleLeader(c: pg.ClientBase, pid: number): Promise<boolean> {
  const r = await c.query<{ ended: boolean }>(
    `SELECT pg_terminate_backend(pid) AS ended FROM pg_locks
      WHERE locktype = 'advisory' AND classid = $1::oid AND pid = $2 AND granted`,
    [LEADER_LOCK_CLASS, pid],
  );
  return r.rows.some((x) => x.ended);
}
