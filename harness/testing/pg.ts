import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { migrate } from '../../reference-app/db/migrate.ts';

/** Creates an empty database on the run's Postgres and returns its URL (optionally migrated). */
export async function freshDatabase(opts: { migrate?: boolean } = {}): Promise<string> {
  const admin = inject('pgAdminUrl');
  const name = `t_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const u = new URL(admin);
  u.pathname = `/${name}`;
  const url = u.toString();
  if (opts.migrate ?? true) await migrate(url);
  return url;
}
