import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { freshDatabase } from '../../harness/testing/pg.ts';
import { setupDatabase } from '../src/setup.ts';
import { SetupError } from '../src/errors.ts';
import { USERS_MAPPINGS, connect, testConfig, withSearchPath } from '../testing/db.ts';

let url: string;
let admin: pg.Client;

async function triggers(table: string, schema = 'public'): Promise<string[]> {
  const r = await admin.query<{ tgname: string }>(
    `SELECT tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relname = $1 AND n.nspname = $2 AND NOT t.tgisinternal ORDER BY 1`,
    [table, schema],
  );
  return r.rows.map((x) => x.tgname);
}

beforeAll(async () => {
  url = await freshDatabase({ migrate: false });
  admin = await connect(url);
  await admin.query('CREATE TABLE users (id integer, name text)');
});
afterAll(async () => {
  await admin.end();
});

describe('setup', () => {
  it("installs the original's control table and one trigger per (table, operation)", async () => {
    const c = await connect(url);
    try {
      const res = await setupDatabase(c, testConfig(url, USERS_MAPPINGS));
      expect(res.triggersCreated.sort()).toEqual(['users.users_notify_delete', 'users.users_notify_insert', 'users.users_notify_update']);
    } finally {
      await c.end();
    }
    const rows = await admin.query('SELECT tablename, ablychannelname, operation FROM ablycontroltable ORDER BY operation');
    expect(rows.rows).toEqual([
      { tablename: 'users', ablychannelname: 'ablyusersdel', operation: 'DELETE' },
      { tablename: 'users', ablychannelname: 'ablyusersins', operation: 'INSERT' },
      { tablename: 'users', ablychannelname: 'ablyusersupt', operation: 'UPDATE' },
    ]);
    expect(await triggers('users')).toEqual(['users_notify_delete', 'users_notify_insert', 'users_notify_update']);
  });

  it('is idempotent and safe for two instances at once', async () => {
    const [a, b] = [await connect(url), await connect(url)];
    try {
      const cfg = testConfig(url, USERS_MAPPINGS);
      const [ra, rb] = await Promise.all([setupDatabase(a, cfg), setupDatabase(b, cfg)]);
      expect(ra.outboxId).toBe(rb.outboxId);
      // Already current: nothing replaced, so writers were not locked out.
      expect([...ra.triggersCreated, ...rb.triggersCreated]).toEqual([]);
    } finally {
      await a.end();
      await b.end();
    }
    expect(await triggers('users')).toHaveLength(3);
  });

  it('removes the triggers and rows of mappings dropped from the config', async () => {
    const c = await connect(url);
    try {
      const res = await setupDatabase(c, testConfig(url, USERS_MAPPINGS.slice(0, 1)));
      expect(res.triggersDropped.sort()).toEqual(['users.users_notify_delete', 'users.users_notify_update']);
      expect(await triggers('users')).toEqual(['users_notify_insert']);
      const n = await admin.query('SELECT count(*)::int AS n FROM ablycontroltable');
      expect(n.rows[0].n).toBe(1);
      await setupDatabase(c, testConfig(url, USERS_MAPPINGS));
      expect(await triggers('users')).toHaveLength(3);
    } finally {
      await c.end();
    }
  });

  it('handles a table name with a quote and a semicolon safely', async () => {
    const hostile = `we'ird"; DROP TABLE users; --`;
    await admin.query(`CREATE TABLE "we'ird""; DROP TABLE users; --" (id int, room text)`);
    const c = await connect(url);
    try {
      await setupDatabase(c, testConfig(url, [{ tablename: hostile, ablychannelname: 'x', operation: 'INSERT' }, ...USERS_MAPPINGS]));
      await admin.query(`INSERT INTO "we'ird""; DROP TABLE users; --" VALUES (1, 'r')`);
      const out = await admin.query('SELECT tablename, row_data FROM ably_outbox');
      expect(out.rows).toEqual([{ tablename: hostile, row_data: { id: 1, room: 'r' } }]);
      expect(await triggers('users')).toHaveLength(3);
      await admin.query('DELETE FROM ably_outbox');
    } finally {
      await c.end();
    }
  });

  it('refuses an unknown table with a clear error and changes nothing', async () => {
    const c = await connect(url);
    try {
      const before = await admin.query('SELECT count(*)::int AS n FROM ablycontroltable');
      const p = setupDatabase(c, testConfig(url, [{ tablename: 'nope; DROP TABLE users', ablychannelname: 'x', operation: 'INSERT' }]));
      await expect(p).rejects.toThrow(SetupError);
      await expect(p).rejects.toThrow(/table "nope; DROP TABLE users": not found on the search_path/);
      const after = await admin.query('SELECT count(*)::int AS n FROM ablycontroltable');
      expect(after.rows[0].n).toBe(before.rows[0].n);
      expect(await triggers('users')).toHaveLength(3);
    } finally {
      await c.end();
    }
  });

  it('rejects a channel template naming a column the table lacks', async () => {
    const c = await connect(url);
    try {
      const cfg = testConfig(url, [{ tablename: 'users', ablychannelname: 'u:{room}', operation: 'INSERT' }], { channelTemplates: true });
      await expect(setupDatabase(c, cfg)).rejects.toThrow(/table users has no column "room"/);
    } finally {
      await c.end();
    }
  });

  it('lives in current_schema() and captures writes from sessions with another search_path', async () => {
    await admin.query('CREATE SCHEMA h1; CREATE TABLE h1.users (id integer, name text)');
    const surl = withSearchPath(url, 'h1');
    const c = await connect(surl);
    try {
      await setupDatabase(c, testConfig(surl, USERS_MAPPINGS));
    } finally {
      await c.end();
    }
    expect(await triggers('users', 'h1')).toHaveLength(3);
    // The writer's session uses the default search_path (public).
    await admin.query(`INSERT INTO h1.users VALUES (7, 'seven')`);
    const out = await admin.query('SELECT o.operation, o.row_data, c.commit_seq IS NOT NULL AS committed FROM h1.ably_outbox o JOIN h1.ably_outbox_commit c USING (xid)');
    expect(out.rows).toEqual([{ operation: 'INSERT', row_data: { id: 7, name: 'seven' }, committed: true }]);
    const pub = await admin.query(`SELECT count(*)::int AS n FROM public.ably_outbox`);
    expect(pub.rows[0].n).toBe(0);
  });

  it('never fails the writer: a 100 KB row in durable mode and in notify mode', async () => {
    const big = 'x'.repeat(100 * 1024);
    await admin.query(`INSERT INTO users VALUES (100, $1)`, [big]);
    const r = await admin.query(`SELECT octet_length(row_data::text) AS n FROM ably_outbox WHERE (row_data->>'id')::int = 100`);
    expect(r.rows[0].n).toBeGreaterThan(100 * 1024);
    const c = await connect(url);
    try {
      await setupDatabase(c, testConfig(url, USERS_MAPPINGS, { mode: 'notify' }));
      await c.query('LISTEN table_update');
      const got = new Promise<string>((resolve) => c.on('notification', (m) => resolve(m.payload ?? '')));
      await admin.query(`INSERT INTO users VALUES (101, $1)`, [big]);
      expect(JSON.parse(await got)).toMatchObject({ table: 'users', type: 'INSERT', id: '101' });
      expect(JSON.parse(await got).oversize).toBeGreaterThan(100 * 1024);
    } finally {
      await c.end();
    }
  });
});
