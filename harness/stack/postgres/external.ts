/**
 * External provider: a database the user already runs (`DATABASE_URL`). Nothing is started; each
 * run works in a schema of its own (see run-schema.ts), so user tables are never touched and two
 * runs on one database never see each other's rows, outbox or connector.
 */
import type { StartedPostgres } from './types.ts';
import { claimSchema } from './run-schema.ts';

export interface ExternalPostgresOptions {
  url: string;
  /** A schema to pin (created if missing, never dropped); default: a fresh `run_*` schema. */
  schema?: string;
  /** Keep a generated schema on stop (its name is in `schema`). */
  keep?: boolean;
  connectTimeoutMs?: number;
  onProgress?: (msg: string) => void;
}

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
  let claim;
  try {
    claim = await claimSchema({
      url: opts.url,
      ...(opts.schema ? { pinned: opts.schema } : {}),
      ...(opts.connectTimeoutMs ? { connectTimeoutMs: opts.connectTimeoutMs } : {}),
    });
  } catch (err) {
    const msg = (err as Error).message || String(err);
    // Our own refusals already say what to do; a connection failure needs the target named.
    if (/^(schema|--schema) '/.test(msg)) throw err;
    const sqlstate = (err as { code?: unknown }).code;
    if (typeof sqlstate === 'string' && sqlstate.startsWith('42')) {
      throw new Error(`cannot create the run's schema on the database at ${describeTarget(opts.url)}: ${msg} (the user needs CREATE on the database, or pin an existing schema with --schema)`);
    }
    throw new Error(`cannot reach the database at ${describeTarget(opts.url)}: ${msg}`);
  }
  if (claim.swept.length) opts.onProgress?.(`dropped ${claim.swept.length} schema(s) of runs that ended without cleaning up: ${claim.swept.join(', ')}`);
  const { schema } = claim;
  parsed.searchParams.set('options', `-c search_path=${schema}`);
  return {
    provider: 'external',
    connectionUri: parsed.toString(),
    host: parsed.hostname,
    port: Number(parsed.port || 5432),
    database: decodeURIComponent(parsed.pathname.slice(1)) || 'postgres',
    schema,
    ...(opts.keep ? { kept: true } : {}),
    startupMs: performance.now() - t0,
    // The user's server is not ours to stop: only our schema goes.
    stop: () => claim.release({ keep: opts.keep === true }),
  };
}
