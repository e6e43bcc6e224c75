/**
 * Setup of `mode: "wal"`: prerequisites, the publication, replica identities and the slot.
 *
 * Each prerequisite that fails is reported as one line naming the setting and the fix, before
 * anything is created: an external database (RDS, a container) often lacks one, and Postgres's own
 * errors come later and say less (a missing REPLICATION privilege only shows at START_REPLICATION).
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { ConnectorConfig } from './config.ts';
import { SetupError } from './errors.ts';
import type { ResolvedTable } from './setup.ts';
import { quoteIdent } from './sql.ts';

export interface WalNames {
  slot: string;
  publication: string;
}

const hash = (s: string): string => createHash('sha256').update(s).digest('hex').slice(0, 12);

/** Slot names are cluster-wide, so the default carries the database as well as the schema. */
export function walNames(cfg: ConnectorConfig, database: string, schema: string): WalNames {
  return {
    slot: cfg.wal.slotName ?? `ably_${hash(`${database}\u0000${schema}`)}`,
    publication: cfg.wal.publicationName ?? `ably_connector_${hash(schema)}`,
  };
}

async function one<T extends pg.QueryResultRow>(c: pg.ClientBase, text: string, values: unknown[] = []): Promise<T> {
  return (await c.query<T>(text, values)).rows[0]!;
}

/** Every check at once, so a user fixes them in one round; each failure is one line. */
export async function checkWalPrerequisites(c: pg.ClientBase, names: WalNames, tables: Iterable<ResolvedTable>): Promise<void> {
  const problems: string[] = [];
  const s = await one<{ wal_level: string; slots: number; senders: number; used_slots: number; used_senders: number; role: string; db: string; repl: boolean; can_create: boolean }>(
    c,
    `SELECT current_setting('wal_level') AS wal_level,
            current_setting('max_replication_slots')::int AS slots,
            current_setting('max_wal_senders')::int AS senders,
            (SELECT count(*)::int FROM pg_replication_slots) AS used_slots,
            (SELECT count(*)::int FROM pg_stat_replication) AS used_senders,
            current_user AS role, current_database() AS db,
            (SELECT rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user) AS repl,
            has_database_privilege(current_database(), 'CREATE') AS can_create`,
  );
  if (s.wal_level !== 'logical') {
    problems.push(`wal_level is ${s.wal_level}; mode "wal" needs wal_level=logical: ALTER SYSTEM SET wal_level = logical, then restart Postgres (RDS: rds.logical_replication = 1)`);
  }
  if (!s.repl) {
    problems.push(`role ${s.role} lacks the REPLICATION privilege: ALTER ROLE ${quoteIdent(s.role)} WITH REPLICATION (RDS: GRANT rds_replication TO ${quoteIdent(s.role)})`);
  }
  const slot = await c.query<{ plugin: string; database: string | null; slot_type: string }>(
    'SELECT plugin, database, slot_type FROM pg_replication_slots WHERE slot_name = $1',
    [names.slot],
  );
  const existing = slot.rows[0];
  if (existing && (existing.slot_type !== 'logical' || existing.plugin !== 'pgoutput' || existing.database !== s.db)) {
    problems.push(`replication slot ${names.slot} exists for ${existing.slot_type} ${existing.plugin ?? ''} on database ${existing.database ?? '-'}, not pgoutput on ${s.db}: set extensions.wal.slotName to another name, or drop it`);
  }
  if (!existing && s.used_slots >= s.slots) {
    problems.push(`max_replication_slots=${s.slots} are all in use: raise max_replication_slots (restart), or drop an unused slot with pg_drop_replication_slot(name)`);
  }
  if (s.senders === 0 || s.used_senders >= s.senders) {
    problems.push(`max_wal_senders=${s.senders} leaves no WAL sender free (${s.used_senders} in use): raise max_wal_senders and restart Postgres`);
  }
  const pub = await c.query<{ owner: string; mine: boolean }>(
    `SELECT pg_get_userbyid(pubowner) AS owner, pg_has_role(pubowner, 'USAGE') AS mine FROM pg_publication WHERE pubname = $1`,
    [names.publication],
  );
  if (pub.rows[0] && !pub.rows[0].mine) {
    problems.push(`publication ${names.publication} is owned by ${pub.rows[0].owner}, not ${s.role}: ALTER PUBLICATION ${quoteIdent(names.publication)} OWNER TO ${quoteIdent(s.role)}, or set extensions.wal.publicationName`);
  }
  if (!pub.rows[0] && !s.can_create) {
    problems.push(`role ${s.role} may not create the publication: GRANT CREATE ON DATABASE ${quoteIdent(s.db)} TO ${quoteIdent(s.role)}`);
  }
  for (const t of tables) {
    const o = await one<{ owner: string; mine: boolean }>(c, `SELECT pg_get_userbyid(relowner) AS owner, pg_has_role(relowner, 'USAGE') AS mine FROM pg_class WHERE oid = $1`, [t.oid]);
    if (!o.mine) problems.push(`table ${t.qualified} is owned by ${o.owner}: a publication (and REPLICA IDENTITY) needs its owner; run the connector as ${o.owner} or ALTER TABLE ${t.qualified} OWNER TO ${quoteIdent(s.role)}`);
  }
  if (problems.length) throw new SetupError(problems.join('\n'));
}

/** Publication and replica identities; runs inside the setup transaction. */
export async function reconcilePublication(c: pg.ClientBase, cfg: ConnectorConfig, names: WalNames, tables: Map<string, ResolvedTable>): Promise<void> {
  const wanted = new Map([...tables.values()].map((t) => [t.oid, t]));
  const list = [...wanted.values()].map((t) => t.qualified).join(', ');
  const has = await c.query<{ oid: number }>(
    `SELECT c.oid::int AS oid FROM pg_publication_tables p JOIN pg_class c ON c.relname = p.tablename
       JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = p.schemaname WHERE p.pubname = $1`,
    [names.publication],
  );
  const exists = (await c.query('SELECT 1 FROM pg_publication WHERE pubname = $1', [names.publication])).rowCount === 1;
  const same = has.rows.length === wanted.size && has.rows.every((r) => wanted.has(r.oid));
  if (!exists) await c.query(`CREATE PUBLICATION ${quoteIdent(names.publication)} FOR TABLE ${list} WITH (publish = 'insert, update, delete')`);
  else if (!same) await c.query(`ALTER PUBLICATION ${quoteIdent(names.publication)} SET TABLE ${list}`);
  for (const [name, t] of tables) {
    if ((cfg.wal.replicaIdentity[name] ?? 'full') !== 'full') continue;
    const r = await one<{ ident: string }>(c, 'SELECT relreplident AS ident FROM pg_class WHERE oid = $1', [t.oid]);
    // ALTER TABLE waits for every open transaction on the table: only when it changes something.
    if (r.ident !== 'f') await c.query(`ALTER TABLE ${t.qualified} REPLICA IDENTITY FULL`);
  }
}

/** After the setup transaction: a slot cannot be created in a transaction that wrote. */
export async function ensureSlot(c: pg.ClientBase, names: WalNames): Promise<boolean> {
  const r = await c.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1', [names.slot]);
  if (r.rowCount === 1) return false;
  try {
    await c.query(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [names.slot]);
    return true;
  } catch (err) {
    // Another instance starting at the same moment created it.
    if ((err as { code?: string }).code === '42710') return false;
    throw err;
  }
}

/**
 * Drops the slot a config reads, for when the connector is retired (a slot left behind pins WAL
 * for ever). Waits up to `waitMs` for a consumer that is stopping to let go; a slot still in use
 * then is left alone and reported. Returns whether a slot was dropped.
 */
export async function dropWalSlot(c: pg.ClientBase, cfg: ConnectorConfig, waitMs = 5000): Promise<boolean> {
  const where = await one<{ db: string; schema: string | null }>(c, 'SELECT current_database() AS db, current_schema() AS schema');
  if (!where.schema) return false;
  const { slot } = walNames(cfg, where.db, where.schema);
  for (const deadline = Date.now() + waitMs; ; ) {
    const r = await c.query<{ active: boolean }>('SELECT active FROM pg_replication_slots WHERE slot_name = $1', [slot]);
    if (!r.rows[0]) return false;
    if (!r.rows[0].active) {
      await c.query('SELECT pg_drop_replication_slot($1)', [slot]);
      return true;
    }
    if (Date.now() > deadline) throw new SetupError(`replication slot ${slot} is still in use; not dropped`);
    await new Promise((res) => setTimeout(res, 20));
  }
}
