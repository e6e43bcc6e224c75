import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { describe, expect, inject, it } from 'vitest';
import pg from 'pg';
import { PostgresService, parseProvider } from './index.ts';
import { dockerAvailable } from './testcontainers.ts';
import { RUN_MARKER } from './run-schema.ts';
import { freshDatabase } from '../../testing/pg.ts';
import { migrate } from '../../../reference-app/db/migrate.ts';

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('embedded postgres', () => {
  it('starts a real server with logical WAL, restarts it, and removes everything on stop', async () => {
    const started = await new PostgresService({ provider: 'embedded' }).start();
    const pid = started.pid?.();
    expect(pid).toBeGreaterThan(0);
    const c = new pg.Client({ connectionString: started.connectionUri });
    await c.connect();
    const { rows } = await c.query<{ wal_level: string; usr: string }>(
      "SELECT current_setting('wal_level') AS wal_level, current_user AS usr",
    );
    expect(rows[0]).toEqual({ wal_level: 'logical', usr: 'postgres' });
    await c.query('CREATE TABLE kept (x int)');
    await c.query('INSERT INTO kept VALUES (42)');
    await c.end();

    await started.restart!('immediate');
    const c2 = new pg.Client({ connectionString: started.connectionUri });
    await c2.connect();
    expect((await c2.query('SELECT x FROM kept')).rows).toEqual([{ x: 42 }]);
    await c2.end();

    const livePid = started.pid!()!;
    const c3 = new pg.Client({ connectionString: started.connectionUri });
    await c3.connect();
    const dir = (await c3.query<{ d: string }>("SELECT current_setting('data_directory') AS d")).rows[0]!.d;
    await c3.end();
    await started.stop();
    expect(pidAlive(livePid)).toBe(false);
    expect(existsSync(dir)).toBe(false);
  });
});

describe('external postgres', () => {
  it('works in a schema of its own per run, never in public, and drops it on stop', async () => {
    const url = await freshDatabase({ migrate: false });
    const [one, two] = await Promise.all([new PostgresService({ databaseUrl: url }).start(), new PostgresService({ databaseUrl: url }).start()]);
    expect(one.provider).toBe('external');
    expect(one.schema).toMatch(/^run_\d{14}_[0-9a-f]{8}$/);
    expect(two.schema).not.toBe(one.schema);
    await Promise.all([migrate(one.connectionUri), migrate(two.connectionUri)]);
    const tablesIn = async () => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        const { rows } = await c.query<{ table_schema: string }>(
          "SELECT DISTINCT table_schema FROM information_schema.tables WHERE table_name = 'chat_messages' ORDER BY 1",
        );
        return rows.map((r) => r.table_schema);
      } finally {
        await c.end();
      }
    };
    expect(await tablesIn()).toEqual([one.schema, two.schema].sort());
    await one.stop();
    expect(await tablesIn()).toEqual([two.schema]);
    await two.stop();
    expect(await tablesIn()).toEqual([]);
  });

  it('keeps the schema with keep, and a pinned schema is refused while another run holds it, naming the holder', async () => {
    const url = await freshDatabase({ migrate: false });
    const kept = await new PostgresService({ databaseUrl: url, keep: true }).start();
    await kept.stop();
    const pinned = await new PostgresService({ databaseUrl: url, schema: 'harness_x' }).start();
    const err = await new PostgresService({ databaseUrl: url, schema: 'harness_x' }).start().then(() => undefined, (e: Error) => e);
    expect(err?.message).toMatch(/^schema 'harness_x' is in use by another live run: backend pid \d+, application 'chat-harness pid \d+@[^ ]+ harness_x', client /);
    expect(err?.message.split('\n')).toHaveLength(1);
    await pinned.stop();
    // Released: the next run may pin it again, and a pinned schema is the user's, so it survived.
    const again = await new PostgresService({ databaseUrl: url, schema: 'harness_x' }).start();
    await again.stop();
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    const { rows } = await c.query<{ nspname: string }>("SELECT nspname FROM pg_namespace WHERE nspname IN ($1, 'harness_x') ORDER BY 1", [kept.schema]);
    await c.end();
    expect(rows.map((r) => r.nspname)).toEqual(['harness_x', kept.schema!].sort());
  });

  it('drops the schema of a run that died without cleaning up, and leaves live and kept ones', async () => {
    const url = await freshDatabase({ migrate: false });
    const kept = await new PostgresService({ databaseUrl: url, keep: true }).start();
    await kept.stop();
    const live = await new PostgresService({ databaseUrl: url }).start();
    // A run killed with SIGKILL: its schema stays, its lock session is gone.
    const dead = `run_20260101000000_deadbeef`;
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query(`CREATE SCHEMA ${dead}`);
    await c.query(`COMMENT ON SCHEMA ${dead} IS '${RUN_MARKER}'`);
    const progress: string[] = [];
    const next = await new PostgresService({ databaseUrl: url, onProgress: (m) => progress.push(m) }).start();
    expect(progress.join('\n')).toMatch(new RegExp(`dropped 1 schema\\(s\\) of runs that ended without cleaning up: ${dead}`));
    const { rows } = await c.query<{ nspname: string }>("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'run\\_%' ORDER BY 1");
    expect(rows.map((r) => r.nspname)).toEqual([kept.schema, live.schema, next.schema].sort());
    await c.end();
    await Promise.all([live.stop(), next.stop()]);
  });

  it('names host and port of a database that does not answer, within 10 s', async () => {
    const t0 = Date.now();
    await expect(
      new PostgresService({ databaseUrl: 'postgresql://u:p@127.0.0.1:1/db' }).start(),
    ).rejects.toThrow(/127\.0\.0\.1:1/);
    expect(Date.now() - t0).toBeLessThan(10_000);
  });
});

describe('provider selection', () => {
  it('lists the valid providers for an unknown one', () => {
    expect(() => parseProvider('docker')).toThrow(/embedded, external, testcontainers, auto/);
  });

  it('detects a missing Docker engine without throwing', async () => {
    const found = await dockerAvailable();
    expect(typeof found).toBe('boolean');
  });
});

describe('npm run stack', () => {
  it('prints a usable databaseUrl first, and Ctrl-C leaves no postgres behind', async () => {
    const child = spawn('node', ['--import', 'tsx', 'harness/cli/stack.ts', '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const first = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`stack exited early with ${code}`)));
    });
    const { databaseUrl } = JSON.parse(first) as { databaseUrl: string };
    const c = new pg.Client({ connectionString: databaseUrl });
    await c.connect();
    const { rows } = await c.query<{ pid: number; dir: string }>(
      "SELECT pg_backend_pid() AS pid, current_setting('data_directory') AS dir",
    );
    const checkpointer = await c.query<{ pid: string }>('SELECT pid FROM pg_stat_activity WHERE backend_type = $1', ['checkpointer']);
    await c.end();
    const backendPid = rows[0]!.pid;
    expect(checkpointer.rows.length).toBe(1);
    child.kill('SIGINT');
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(130);
    expect(pidAlive(Number(checkpointer.rows[0]!.pid))).toBe(false);
    expect(pidAlive(backendPid)).toBe(false);
    expect(existsSync(rows[0]!.dir)).toBe(false);
  }, 60_000);
});

describe('a harness killed with SIGKILL', () => {
  it('leaves no postgres, data directory or connector behind', async () => {
    const child = spawn('node', ['--import', 'tsx', 'harness/cli/stack.ts', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const first = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`stack exited early with ${code}`)));
    });
    const { databaseUrl, connectorHealthUrl } = JSON.parse(first) as { databaseUrl: string; connectorHealthUrl: string };
    const c = new pg.Client({ connectionString: databaseUrl });
    await c.connect();
    const { rows } = await c.query<{ dir: string }>("SELECT current_setting('data_directory') AS dir");
    const procs = await c.query<{ pid: string }>("SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'");
    c.on('error', () => {}); // its server is about to be shut down under it
    expect((await fetch(connectorHealthUrl)).status).toBeLessThan(600);
    child.kill('SIGKILL');
    await once(child, 'exit');
    const checkpointer = Number(procs.rows[0]!.pid);
    const deadline = Date.now() + 15_000;
    while ((pidAlive(checkpointer) || existsSync(rows[0]!.dir)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(pidAlive(checkpointer)).toBe(false);
    expect(existsSync(rows[0]!.dir)).toBe(false);
    await expect(fetch(connectorHealthUrl, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();
    await c.end().catch(() => {});
  }, 60_000);
});

it('provides the run-wide database to tests', () => {
  expect(inject('pgAdminUrl')).toMatch(/^postgres/);
});
