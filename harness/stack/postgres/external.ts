/**
 * External provider: a database the user already runs (`DATABASE_URL`). Nothing is started or
 * dropped; the harness works in a schema of its own so user tables are never touched.
 */
import pg from 'pg';
import type { StartedPostgres } from './types.ts';

export interface ExternalPostgresOptions {
  url: string;
  /** Schema the harness creates (if missing) and sets as search_path. */
  schema?: string;
  connectTimeoutMs?: number;
}

const SCHEMA_RE = /^[a-z_][a-z0-9_]{0,62}$/;

export function describeTarget(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname || 'localhost'}:${u.port || '5432'}`;
  } catch {
    return 'an unparsable URL';
  }
}

export async function startExternalPostgres(opts: ExternalPostgresOptions): Promise<StartedPostgres> {
  const t0 = performance.now();
  let parsed: URL;
  try {
    parsed = new URL(opts.url);
  } catch {
    throw new Error('DATABASE_URL is not a valid URL; expected postgresql://user:password@host:port/database');
  }
  if (!/^postgres(ql)?:$/.test(parsed.protocol)) {
    throw new Error(`DATABASE_URL has protocol '${parsed.protocol}'; expected postgresql:`);
  }
  const schema = opts.schema ?? 'chat_harness';
  if (!SCHEMA_RE.test(schema)) throw new Error(`schema '${schema}' is not a plain lower-case identifier`);

  const client = new pg.Client({
    connectionString: opts.url,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 8000,
  });
  try {
    await client.connect();
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${client.escapeIdentifier(schema)}`);
  } catch (err) {
    throw new Error(`cannot reach the database at ${describeTarget(opts.url)}: ${(err as Error).message || String(err)}`);
  } finally {
    await client.end().catch(() => {});
  }
  parsed.searchParams.set('options', `-c search_path=${schema}`);
  return {
    provider: 'external',
    connectionUri: parsed.toString(),
    host: parsed.hostname,
    port: Number(parsed.port || 5432),
    database: decodeURIComponent(parsed.pathname.slice(1)) || 'postgres',
    schema,
    startupMs: performance.now() - t0,
    // The user's server is not ours to stop.
    stop: async () => {},
  };
}
