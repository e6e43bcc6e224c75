import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { describe, expect, inject, it } from 'vitest';
import pg from 'pg';
import { PostgresService, parseProvider } from './index.ts';
import { dockerAvailable } from './testcontainers.ts';
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
  it('works in its own schema and never creates tables in public', async () => {
    const url = await freshDatabase({ migrate: false });
    const ext = await new PostgresService({ databaseUrl: url, schema: 'harness_x' }).start();
    expect(ext.provider).toBe('external');
    await migrate(ext.connectionUri);
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    const { rows } = await c.query<{ table_schema: string }>(
      "SELECT DISTINCT table_schema FROM information_schema.tables WHERE table_name = 'chat_messages'",
    );
    await c.end();
    expect(rows.map((r) => r.table_schema)).toEqual(['harness_x']);
    await ext.stop();
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

  it('detects a missing Docker engine quickly and silently', async () => {
    const t0 = Date.now();
    const found = await dockerAvailable();
    expect(Date.now() - t0).toBeLessThan(2000);
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
  });
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
