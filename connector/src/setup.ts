/**
 * Installs and reconciles the connector's database objects in ONE transaction, serialised by an
 * advisory lock, so two instances starting together (or a restart) converge on the same state.
 * Everything lives in current_schema(): external databases may give us a schema of our own.
 */
import type pg from 'pg';
import type { ConnectorConfig, Mapping, Operation } from './config.ts';
import { SetupError } from './errors.ts';
import { checkWalPrerequisites, ensureSlot, reconcilePublication, walNames, type WalNames } from './wal-setup.ts';
import {
  SETUP_LOCK_CLASS,
  TGTYPE,
  captureFunctionDdl,
  commitFunctionDdl,
  commitTriggerDdl,
  objectNames,
  quoteIdent,
  rowTriggerDdl,
  tablesDdl,
  triggerName,
  type ObjectNames,
} from './sql.ts';

export interface ResolvedTable {
  /** Qualified, quoted name for DDL. */
  qualified: string;
  schema: string;
  /** What TG_TABLE_NAME reports, and so what outbox rows carry. */
  relname: string;
  oid: number;
}

export interface SetupResult {
  names: ObjectNames;
  outboxId: string;
  /** Config mappings with the table each one resolved to. */
  tables: Map<string, ResolvedTable>;
  triggersCreated: string[];
  triggersDropped: string[];
  /** Mode wal: the slot and publication it reads. */
  wal?: WalNames;
}

/** Resolves a configured table name as the original's unquoted SQL would have, without its injection. */
async function resolveTable(c: pg.ClientBase, tablename: string): Promise<ResolvedTable | undefined> {
  const candidates = [tablename];
  if (tablename.toLowerCase() !== tablename) candidates.push(tablename.toLowerCase());
  for (const name of candidates) {
    const r = await c.query<{ oid: number; nspname: string; relname: string; relkind: string }>(
      `SELECT c.oid::int AS oid, n.nspname, c.relname, c.relkind
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.oid = to_regclass($1)`,
      [quoteIdent(name)],
    );
    const row = r.rows[0];
    if (!row) continue;
    if (row.relkind !== 'r' && row.relkind !== 'p') {
      throw new SetupError(`table ${JSON.stringify(tablename)}: is not a table (relkind ${row.relkind}); triggers need a table`);
    }
    return { qualified: `${quoteIdent(row.nspname)}.${quoteIdent(row.relname)}`, schema: row.nspname, relname: row.relname, oid: row.oid };
  }
  return undefined;
}

async function columnsOf(c: pg.ClientBase, oid: number): Promise<Set<string>> {
  const r = await c.query<{ attname: string }>(
    'SELECT attname FROM pg_attribute WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped',
    [oid],
  );
  return new Set(r.rows.map((x) => x.attname));
}

async function triggerIsCurrent(c: pg.ClientBase, n: ObjectNames, t: ResolvedTable, name: string, op: Operation, mode: string): Promise<boolean> {
  const r = await c.query(
    `SELECT 1 FROM pg_trigger
      WHERE tgrelid = $1 AND tgname = $2 AND tgtype = $3 AND tgenabled = 'O'
        AND tgfoid = to_regprocedure($4 || '()') AND tgargs = convert_to($5, 'UTF8') || '\\x00'::bytea`,
    [t.oid, name, TGTYPE[op], n.captureFn, mode],
  );
  return r.rowCount === 1;
}

async function installObjects(c: pg.ClientBase, n: ObjectNames): Promise<string> {
  for (const ddl of tablesDdl(n)) await c.query(ddl);
  await c.query(captureFunctionDdl(n));
  await c.query(commitFunctionDdl(n));
  const has = await c.query(`SELECT 1 FROM pg_trigger WHERE tgrelid = $1::regclass AND tgname = 'ably_outbox_commit'`, [n.outbox]);
  if (has.rowCount === 0) await c.query(commitTriggerDdl(n));
  const meta = await c.query<{ outbox_id: string }>(`SELECT outbox_id FROM ${n.meta} WHERE id = 1`);
  return meta.rows[0]!.outbox_id;
}

function key(table: string, op: string): string {
  return `${table}\u0000${op}`;
}

async function reconcileMappings(
  c: pg.ClientBase,
  cfg: ConnectorConfig,
  n: ObjectNames,
  tables: Map<string, ResolvedTable>,
): Promise<{ created: string[]; dropped: string[] }> {
  const created: string[] = [];
  const dropped: string[] = [];
  const wanted = new Map<string, { table: ResolvedTable; op: Operation }>();
  for (const m of cfg.mappings) wanted.set(key(tables.get(m.tablename)!.qualified, m.operation), { table: tables.get(m.tablename)!, op: m.operation });

  // Mappings dropped from the config: remove their rows, and their triggers unless still wanted.
  const existing = await c.query<{ tablename: string; ablychannelname: string; operation: string }>(
    `SELECT tablename, ablychannelname, operation FROM ${n.controlTable}`,
  );
  const configured = new Set(cfg.mappings.map((m) => `${m.tablename}\u0000${m.ablychannelname}\u0000${m.operation}`));
  for (const row of existing.rows) {
    if (configured.has(`${row.tablename}\u0000${row.ablychannelname}\u0000${row.operation}`)) continue;
    await c.query(`DELETE FROM ${n.controlTable} WHERE tablename = $1 AND ablychannelname = $2 AND operation IS NOT DISTINCT FROM $3`, [
      row.tablename,
      row.ablychannelname,
      row.operation,
    ]);
    const op = (row.operation ?? '').toUpperCase() as Operation;
    if (!(op in TGTYPE)) continue;
    const t = await resolveTable(c, row.tablename);
    if (!t || wanted.has(key(t.qualified, op))) continue;
    const name = triggerName(t.relname, op);
    await c.query(`DROP TRIGGER IF EXISTS ${quoteIdent(name)} ON ${t.qualified}`);
    dropped.push(`${t.relname}.${name}`);
  }

  for (const m of cfg.mappings) {
    await c.query(
      `INSERT INTO ${n.controlTable} (tablename, ablychannelname, operation) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
      [m.tablename, m.ablychannelname, m.operation],
    );
  }
  for (const { table, op } of wanted.values()) {
    const name = triggerName(table.relname, op);
    if (cfg.mode === 'wal') {
      // WAL capture needs no trigger: one left by another mode would tax writers for nothing.
      const has = await c.query('SELECT 1 FROM pg_trigger WHERE tgrelid = $1 AND tgname = $2', [table.oid, name]);
      if (has.rowCount === 0) continue;
      await c.query(`DROP TRIGGER ${quoteIdent(name)} ON ${table.qualified}`);
      dropped.push(`${table.relname}.${name}`);
      continue;
    }
    // Replacing an identical trigger would still lock the table against writers; skip it.
    if (await triggerIsCurrent(c, n, table, name, op, cfg.mode)) continue;
    await c.query(rowTriggerDdl(n, table.qualified, name, op, cfg.mode));
    created.push(`${table.relname}.${name}`);
  }
  return { created, dropped };
}

async function resolveAll(c: pg.ClientBase, mappings: Mapping[]): Promise<Map<string, ResolvedTable>> {
  const tables = new Map<string, ResolvedTable>();
  const schema = (await c.query<{ s: string | null }>('SELECT current_schema() AS s')).rows[0]!.s;
  for (const m of mappings) {
    if (tables.has(m.tablename)) continue;
    const t = await resolveTable(c, m.tablename);
    if (!t) throw new SetupError(`table ${JSON.stringify(m.tablename)}: not found on the search_path (current schema ${schema ?? 'none'})`);
    tables.set(m.tablename, t);
  }
  for (const m of mappings) {
    if (m.channel.columns.length === 0) continue;
    const t = tables.get(m.tablename)!;
    const cols = await columnsOf(c, t.oid);
    for (const col of m.channel.columns) {
      if (!cols.has(col)) {
        throw new SetupError(`channel template ${JSON.stringify(m.ablychannelname)}: table ${t.relname} has no column ${JSON.stringify(col)}`);
      }
    }
  }
  return tables;
}

export async function setupDatabase(c: pg.ClientBase, cfg: ConnectorConfig): Promise<SetupResult> {
  await c.query('BEGIN');
  try {
    const schema = (await c.query<{ s: string | null }>('SELECT current_schema() AS s')).rows[0]!.s;
    if (!schema) throw new SetupError('no schema on the search_path exists; create one or fix search_path');
    await c.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [SETUP_LOCK_CLASS, schema]);
    const names = objectNames(schema);
    const tables = await resolveAll(c, cfg.mappings);
    let wal: WalNames | undefined;
    if (cfg.mode === 'wal') {
      const db = (await c.query<{ d: string }>('SELECT current_database() AS d')).rows[0]!.d;
      wal = walNames(cfg, db, schema);
      await checkWalPrerequisites(c, wal, tables.values());
    }
    const outboxId = await installObjects(c, names);
    const { created, dropped } = await reconcileMappings(c, cfg, names, tables);
    if (wal) await reconcilePublication(c, cfg, wal, tables);
    await c.query('COMMIT');
    if (wal) await ensureSlot(c, wal);
    return { names, outboxId, tables, triggersCreated: created, triggersDropped: dropped, ...(wal ? { wal } : {}) };
  } catch (err) {
    await c.query('ROLLBACK').catch(() => {});
    if (err instanceof SetupError) throw err;
    throw new SetupError(`database setup failed: ${(err as Error).message}`);
  }
}
