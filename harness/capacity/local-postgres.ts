/**
 * The postmaster of a Postgres the harness did not start (--database-url, the tests' shared
 * server) when it runs on this machine: a backend's parent. Its CPU then counts in the sweep like
 * the embedded server's; a remote server has no process here and stays out of the figures.
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { parseStat } from '../lib/proc.ts';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]', '']);

export async function localPostmaster(databaseUrl: string): Promise<number | undefined> {
  let host: string;
  try {
    host = new URL(databaseUrl).hostname;
  } catch {
    return undefined;
  }
  // A backend pid of a remote server could match an unrelated local process.
  if (!LOOPBACK.has(host) && !host.startsWith('%2F') && !host.startsWith('/')) return undefined;
  const client = new pg.Client({ connectionString: databaseUrl });
  try {
    await client.connect();
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const backend = parseStat(readFileSync(`/proc/${rows[0]!.pid}/stat`, 'utf8'));
    if (!backend) return undefined;
    const comm = readFileSync(`/proc/${backend.ppid}/comm`, 'utf8').trim();
    return /^postgres|^postmaster/.test(comm) ? backend.ppid : undefined;
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => {});
  }
}
