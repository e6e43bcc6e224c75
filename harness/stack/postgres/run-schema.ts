/**
 * A run's own schema on a shared database. Two runs on one database must never share an outbox or
 * a connector leadership (both are per schema), so each run claims its schema with a session-level
 * advisory lock held for the run's life. The lock also tells a later run whether a leftover
 * `run_*` schema still has a live owner: if the lock is free, the owner is gone (crashed, killed)
 * and the schema is dropped.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import pg from 'pg';

/** Advisory lock class (class, hashtext(schema)); fixed, arbitrary, apart from migrations' 7_301_001 and the connector's 7_301_002/003/005. */
export const RUN_LOCK_CLASS = 7_301_004;
/** Generated run schemas carry this comment; only they are ever swept. */
export const RUN_MARKER = 'chat-harness run: dropped when its run ends';
const KEPT_MARKER = 'chat-harness run: kept';

export const SCHEMA_RE = /^[a-z_][a-z0-9_]{0,62}$/;

/** `run_<yyyymmddhhmmss>_<random>`: sortable by start time, unique across hosts. */
export function runSchemaName(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `run_${stamp}_${randomBytes(4).toString('hex')}`;
}

export interface ClaimedSchema {
  schema: string;
  /** Schemas of dead runs this claim dropped. */
  swept: string[];
  /** Drops a generated schema (or, with keep, marks it kept), then releases the claim. */
  release(opts: { keep: boolean }): Promise<void>;
}

export interface ClaimOptions {
  url: string;
  /** A schema the user pinned; undefined means a fresh generated one. */
  pinned?: string;
  connectTimeoutMs?: number;
}

export async function claimSchema(opts: ClaimOptions): Promise<ClaimedSchema> {
  const schema = opts.pinned ?? runSchemaName();
  if (!SCHEMA_RE.test(schema)) throw new Error(`--schema '${schema}' is not a plain lower-case identifier (a-z, 0-9, _; at most 63)`);
  const session = new pg.Client({
    connectionString: opts.url,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 8000,
    // Postgres keeps 63 bytes of it: who holds the run (pid, host) first, the schema after.
    application_name: `chat-harness pid ${process.pid}@${hostname()} ${schema}`.slice(0, 63),
  });
  // A dropped session only loses the claim; it must not crash the run.
  session.on('error', (err) => process.stderr.write(`run schema ${schema}: lock session lost: ${err.message}\n`));
  await session.connect();
  try {
    const got = (await session.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok', [RUN_LOCK_CLASS, schema])).rows[0]!.ok;
    if (!got) throw new Error(`schema '${schema}' is in use by another live run: ${await describeHolder(session, schema)}; stop that run or choose another --schema`);
    const q = session.escapeIdentifier(schema);
    if (opts.pinned) {
      // Looked up first: CREATE SCHEMA IF NOT EXISTS needs CREATE on the database even when the schema exists.
      const exists = (await session.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])).rowCount;
      if (!exists) await session.query(`CREATE SCHEMA IF NOT EXISTS ${q}`);
    } else {
      await session.query(`CREATE SCHEMA ${q}`);
      await session.query(`COMMENT ON SCHEMA ${q} IS ${session.escapeLiteral(RUN_MARKER)}`);
    }
    const swept = await sweepDeadRuns(session, schema);
    return {
      schema,
      swept,
      release: async ({ keep }) => {
        try {
          // A pinned schema is the user's: never dropped (it may even be one they use themselves).
          if (!opts.pinned && !keep) {
            // A client left in an open transaction on our tables would block the drop forever;
            // give up instead, and the next run sweeps the schema once our lock is gone.
            await session.query(`SET lock_timeout = '10s'`);
            await session.query(`DROP SCHEMA IF EXISTS ${q} CASCADE`).catch((err: Error) => {
              throw new Error(`schema ${schema} not dropped (${err.message}); the next run on this database drops it`);
            });
          }
          if (!opts.pinned && keep) await session.query(`COMMENT ON SCHEMA ${q} IS ${session.escapeLiteral(`${KEPT_MARKER} ${new Date().toISOString()}`)}`);
        } finally {
          await session.end().catch(() => {});
        }
      },
    };
  } catch (err) {
    await session.end().catch(() => {});
    throw err;
  }
}

/** Who holds a schema's run lock, from pg_locks and pg_stat_activity. */
async function describeHolder(c: pg.Client, schema: string): Promise<string> {
  const r = await c.query<{ pid: number; application_name: string; client_addr: string | null; backend_start: Date }>(
    `SELECT a.pid, a.application_name, host(a.client_addr) AS client_addr, a.backend_start
       FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
        AND l.classid = $1::oid AND l.objid = hashtext($2)::oid
        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    [RUN_LOCK_CLASS, schema],
  );
  const h = r.rows[0];
  if (!h) return 'holder not visible (it may have just ended)';
  return `backend pid ${h.pid}, application '${h.application_name}', client ${h.client_addr ?? 'local socket'}, since ${h.backend_start.toISOString()}`;
}

/**
 * Drops generated run schemas whose run lock is free: their run ended without dropping them
 * (SIGKILL, power loss). Kept schemas carry another comment and are left alone.
 */
async function sweepDeadRuns(c: pg.Client, own: string): Promise<string[]> {
  const candidates = await c.query<{ nspname: string }>(
    `SELECT nspname FROM pg_namespace
      WHERE nspname LIKE 'run\\_%' AND nspname <> $1 AND obj_description(oid, 'pg_namespace') = $2`,
    [own, RUN_MARKER],
  );
  const swept: string[] = [];
  for (const { nspname } of candidates.rows) {
    await c.query('BEGIN');
    try {
      // Transaction-scoped: taken only to prove nobody holds it, gone at COMMIT.
      const free = (await c.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1, hashtext($2)) AS ok', [RUN_LOCK_CLASS, nspname])).rows[0]!.ok;
      if (free) await c.query(`DROP SCHEMA IF EXISTS ${c.escapeIdentifier(nspname)} CASCADE`);
      await c.query('COMMIT');
      if (free) swept.push(nspname);
    } catch {
      // Another run sweeping the same schema at once; whoever wins drops it.
      await c.query('ROLLBACK').catch(() => {});
    }
  }
  return swept;
}
