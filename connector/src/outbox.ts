/**
 * The outbox queries. The drain reads every committed, not-yet-acknowledged row in commit order
 * (the commit number its transaction took at commit time, then position within the transaction)
 * and never uses a cursor: a row whose transaction commits later is simply found by a later read,
 * so no row can be skipped however its insert-time number compares with others.
 */
import type pg from 'pg';
import type { ObjectNames } from './sql.ts';

export interface OutboxRow {
  seq: number;
  tablename: string;
  operation: string;
  row: Record<string, unknown>;
  /** Commit number; null only if the commit trigger was bypassed (then ordered first, by seq). */
  commitSeq: number | null;
  /** Wall-clock ms when the writing transaction began to commit (commit-to-ack lag). */
  committedMs: number | null;
  /** Length of the row's JSON text, when known: spares measuring it again for the size limit. */
  rowBytes?: number;
}

interface RawRow {
  seq: string;
  tablename: string;
  operation: string;
  row_data: Record<string, unknown>;
  commit_seq: string | null;
  committed_ms: number | null;
  row_bytes: number;
}

export class OutboxQueries {
  constructor(private readonly n: ObjectNames) {}

  /** Committed rows in commit order, leaving out those already in hand (in flight or awaiting deletion). */
  async fetch(c: pg.ClientBase, exclude: readonly number[], limit: number): Promise<OutboxRow[]> {
    const r = await c.query<RawRow>({
      name: 'ably_drain',
      text: `SELECT o.seq, o.tablename, o.operation, o.row_data, c.commit_seq,
                    extract(epoch FROM c.committed_at) * 1000 AS committed_ms, octet_length(o.row_data::text) AS row_bytes
               FROM ${this.n.outbox} o LEFT JOIN ${this.n.commits} c ON c.xid = o.xid
              WHERE o.seq <> ALL($1::bigint[])
              ORDER BY c.commit_seq NULLS FIRST, o.seq
              LIMIT $2`,
      values: [exclude, limit],
    });
    return r.rows.map((x) => ({
      seq: Number(x.seq),
      tablename: x.tablename,
      operation: x.operation,
      row: x.row_data,
      commitSeq: x.commit_seq === null ? null : Number(x.commit_seq),
      committedMs: x.committed_ms === null ? null : Number(x.committed_ms),
      rowBytes: x.row_bytes,
    }));
  }

  /** Removes acknowledged rows, and commit rows none of whose outbox rows remain. */
  async ack(c: pg.ClientBase, seqs: readonly number[]): Promise<void> {
    if (seqs.length === 0) return;
    // The outer DELETE sees the table as before the CTE's DELETE, hence the explicit exclusion.
    await c.query({
      name: 'ably_ack',
      text: `WITH d AS (DELETE FROM ${this.n.outbox} WHERE seq = ANY($1::bigint[]) RETURNING xid)
             DELETE FROM ${this.n.commits} c
              WHERE c.xid IN (SELECT xid FROM d)
                AND NOT EXISTS (SELECT 1 FROM ${this.n.outbox} o WHERE o.xid = c.xid AND o.seq <> ALL($1::bigint[]))`,
      values: [seqs],
    });
  }

  /** Moves a row that can never be published out of the queue, keeping it (and why) for inspection. */
  async deadLetter(c: pg.ClientBase, seq: number, error: string): Promise<void> {
    await c.query(
      `WITH d AS (DELETE FROM ${this.n.outbox} WHERE seq = $1 RETURNING seq, xid, tablename, operation, row_data),
            kept AS (INSERT INTO ${this.n.dead} (seq, tablename, operation, row_data, error)
                     SELECT seq, tablename, operation, row_data, $2 FROM d ON CONFLICT (seq) DO NOTHING)
       DELETE FROM ${this.n.commits} c
        WHERE c.xid IN (SELECT xid FROM d)
          AND NOT EXISTS (SELECT 1 FROM ${this.n.outbox} o WHERE o.xid = c.xid AND o.seq <> $1)`,
      [seq, error],
    );
  }

  async backlog(c: pg.ClientBase): Promise<number> {
    const r = await c.query<{ n: string }>(`SELECT count(*) AS n FROM ${this.n.outbox}`);
    return Number(r.rows[0]!.n);
  }
}
