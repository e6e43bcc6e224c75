/**
 * Applies the versioned SQL files in ./migrations, in name order, each once, each in its own
 * transaction. An advisory lock per schema makes concurrent runners on one schema (two stacks, a
 * test and a CLI) safe, while runs in different schemas of one database migrate side by side.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'migrations');
const LOCK_CLASS = 7_301_001; // arbitrary, fixed: "chat migrations"; second key: hashtext(current schema)
const SCHEMA_KEY = "hashtext(coalesce(current_schema(), ''))";

export interface Migration {
  version: string;
  sql: string;
}

export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((f) => ({ version: f.replace(/\.sql$/, ''), sql: readFileSync(join(dir, f), 'utf8') }));
}

/** Returns the versions applied by this call (empty when up to date). */
export async function migrate(connectionString: string, migrations = loadMigrations()): Promise<string[]> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  const applied: string[] = [];
  try {
    await client.query(`SELECT pg_advisory_lock($1, ${SCHEMA_KEY})`, [LOCK_CLASS]);
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const done = new Set((await client.query<{ version: string }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [m.version]);
        await client.query('COMMIT');
        applied.push(m.version);
      } catch (err) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${m.version} failed: ${(err as Error).message}`);
      }
    }
  } finally {
    await client.query(`SELECT pg_advisory_unlock($1, ${SCHEMA_KEY})`, [LOCK_CLASS]).catch(() => {});
    await client.end();
  }
  return applied;
}
