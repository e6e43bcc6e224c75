/**
 * Retention: what the chat keeps only for a while. Refused writes (chat_write_rejections), edits
 * and deletes settled as rejected or still held in chat_ops, and expired sessions are deleted once
 * older than the retention period. Ops that were applied stay: they make a late redelivery of an
 * edit harmless and decide which edit's text wins.
 *
 * Locally the functions server purges on start and then periodically. AWS entry: `handler`, for an
 * EventBridge schedule (template.yaml), configured by DATABASE_URL and CHAT_RETENTION_MS.
 */
import pg from 'pg';
import { z } from 'zod';

export const DEFAULT_RETENTION_MS = 24 * 3600 * 1000;
/** How often the local server purges: often enough that nothing outstays its period by much. */
const MAX_INTERVAL_MS = 3600 * 1000;

export interface Purged {
  rejections: number;
  ops: number;
  sessions: number;
}

/** Deletes what is older than `retentionMs`, in one transaction; returns how many rows of each went. */
export async function purgeExpired(pool: pg.Pool, retentionMs: number): Promise<Purged> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const cutoff = `clock_timestamp() - make_interval(secs => $1::double precision / 1000)`;
    const rejections = await client.query(`DELETE FROM chat_write_rejections WHERE at < ${cutoff}`, [retentionMs]);
    const ops = await client.query(
      `DELETE FROM chat_ops WHERE (state = 'rejected' AND settled_at < ${cutoff}) OR (state = 'held' AND received_at < ${cutoff})`,
      [retentionMs],
    );
    const sessions = await client.query('DELETE FROM chat_sessions WHERE expires_at < clock_timestamp()');
    await client.query('COMMIT');
    return { rejections: rejections.rowCount ?? 0, ops: ops.rowCount ?? 0, sessions: sessions.rowCount ?? 0 };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

export interface RetentionOptions {
  pool: pg.Pool;
  retentionMs: number;
  /** Default: the retention period, at most an hour. */
  intervalMs?: number;
  onPurged?: (p: Purged) => void;
  onError?: (err: unknown) => void;
}

/** Purges now (resolves once that first purge is done) and then every `intervalMs` until `stop()`. */
export async function startRetention(opts: RetentionOptions): Promise<{ stop(): Promise<void> }> {
  const intervalMs = opts.intervalMs ?? Math.min(opts.retentionMs, MAX_INTERVAL_MS);
  let running: Promise<void> = Promise.resolve();
  const once = () =>
    (running = purgeExpired(opts.pool, opts.retentionMs).then(
      (p) => opts.onPurged?.(p),
      (err: unknown) => opts.onError?.(err),
    ));
  await once();
  const timer = setInterval(() => void running.then(once), intervalMs);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}

const envSchema = z.object({
  CHAT_RETENTION_MS: z.coerce.number({ error: 'expected a number of milliseconds' }).int().min(1).default(DEFAULT_RETENTION_MS),
});

/** CHAT_RETENTION_MS (default 24 h), validated with an error naming the variable. */
export function retentionMsFromEnv(env: Record<string, string | undefined> = process.env): number {
  const r = envSchema.safeParse({ CHAT_RETENTION_MS: env.CHAT_RETENTION_MS === '' ? undefined : env.CHAT_RETENTION_MS });
  if (!r.success) throw new Error(`invalid CHAT_RETENTION_MS=${JSON.stringify(env.CHAT_RETENTION_MS)}: ${r.error.issues[0]?.message ?? 'expected a positive integer'}`);
  return r.data.CHAT_RETENTION_MS;
}

let shared: pg.Pool | undefined;

/** AWS Lambda entry point for a scheduled event: one purge per invocation. */
export const handler = async (): Promise<Purged> => {
  if (!shared) {
    const databaseUrl = process.env.DATABASE_URL;
    if (!databaseUrl) throw new Error('DATABASE_URL is not set');
    shared = new pg.Pool({ connectionString: databaseUrl, max: 1 });
    shared.on('error', () => {});
  }
  return purgeExpired(shared, retentionMsFromEnv());
};
