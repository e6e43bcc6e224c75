import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freshDatabase } from '../../harness/testing/pg.ts';
import { Connector, SetupError, parseConnectorConfig } from '../src/index.ts';
import { spawnConnector, type ConnectorChild } from '../testing/child.ts';
import { connect } from '../testing/db.ts';
import { realtimeEnv, waitFor, type Subscriber } from '../testing/realtime.ts';
import { capturingLogger } from '../testing/log.ts';
import { realtimeSuite } from '../testing/suite.ts';

const suite = realtimeSuite();

function rawConfig(url: string, extensions: Record<string, unknown> = {}) {
  return {
    connector: ['INSERT', 'UPDATE', 'DELETE'].map((operation) => ({ tablename: 'chat_messages', ablychannelname: 'chat:{room}:incoming', operation })),
    extensions: { database: { url }, channelTemplates: true, mode: 'wal', ...extensions },
  };
}

/** Slots outlive their database's connections and pin WAL on the shared server: drop this database's. */
async function dropSlots(url: string): Promise<void> {
  const db = await connect(url);
  try {
    for (let i = 0; i < 100; i++) {
      const r = await db.query<{ slot_name: string; active: boolean }>('SELECT slot_name, active FROM pg_replication_slots WHERE database = current_database()');
      if (r.rows.length === 0) return;
      for (const s of r.rows) if (!s.active) await db.query('SELECT pg_drop_replication_slot($1)', [s.slot_name]).catch(() => {});
      await new Promise((res) => setTimeout(res, 50));
    }
    throw new Error('replication slot still active after the connectors stopped');
  } finally {
    await db.end();
  }
}

/** A test database whose slot is dropped after the test (registered first, so it runs last). */
async function walDatabase(): Promise<string> {
  const url = await freshDatabase();
  suite.cleanup(() => dropSlots(url));
  return url;
}

const rooms = (...names: string[]): Promise<Subscriber> => suite.subscriber(...names.map((r) => `chat:${r}:incoming`));

async function commitMany(url: string, n: number, room = (i: number) => `r${i % 4}`): Promise<void> {
  const db = await connect(url);
  try {
    for (let i = 0; i < n; i += 500) {
      const values = Array.from({ length: Math.min(500, n - i) }, (_, k) => `('m${i + k}', '${room(i + k)}', 'u', 'u', 't${i + k}')`).join(',');
      await db.query(`INSERT INTO chat_messages (id, room, author, username, text) VALUES ${values}`);
    }
  } finally {
    await db.end();
  }
}

function expectOncePerRow(sub: Subscriber, n: number): void {
  expect(new Set(sub.got.map((m) => m.id)).size).toBe(n);
  expect(sub.got).toHaveLength(n);
  expect(new Set(sub.got.map((m) => m.data.row.id)).size).toBe(n);
  for (const room of ['r0', 'r1', 'r2', 'r3']) {
    const seq = sub.on(`chat:${room}:incoming`).map((m) => Number(String(m.data.row.id).slice(1)));
    expect(seq).toEqual([...seq].sort((a, b) => a - b)); // one writer: commit order is insert order
  }
}

async function configFile(raw: unknown): Promise<string> {
  const path = join(mkdtempSync(join(tmpdir(), 'connector-wal-')), 'chat.json');
  writeFileSync(path, JSON.stringify(raw));
  return path;
}

describe('wal mode', () => {
  it('publishes every change once, in commit order, with full rows for UPDATE and DELETE and no trigger on the table', async () => {
    const url = await walDatabase();
    const sub = await rooms('a');
    const c = await suite.connector(rawConfig(url));
    const a = await connect(url);
    const b = await connect(url);
    try {
      const triggers = await a.query(`SELECT 1 FROM pg_trigger WHERE tgrelid = 'chat_messages'::regclass AND NOT tgisinternal`);
      expect(triggers.rowCount).toBe(0);
      // a begins first but commits last: commit order, not begin order, is what subscribers see.
      await a.query('BEGIN');
      await a.query(`INSERT INTO chat_messages (id, room, author, username, text) VALUES ('x1', 'a', 'u', 'u', 'first begun')`);
      await b.query(`INSERT INTO chat_messages (id, room, author, username, text) VALUES ('x2', 'a', 'u', 'u', 'first committed')`);
      await a.query('COMMIT');
      await a.query(`UPDATE chat_messages SET text = 'edited', version = 2, edited = true WHERE id = 'x2'`);
      await a.query(`DELETE FROM chat_messages WHERE id = 'x1'`);
      const got = await sub.until(4);
      expect(got.map((m) => `${m.name} ${String(m.data.row.id)}`)).toEqual(['INSERT x2', 'INSERT x1', 'UPDATE x2', 'DELETE x1']);
      const del = got[3]!.data.row;
      expect(del).toMatchObject({ id: 'x1', room: 'a', text: 'first begun', version: 1, edited: false, deleted: false });
      expect(got[2]!.data).toMatchObject({ table: 'chat_messages', type: 'UPDATE', row: { id: 'x2', text: 'edited', version: 2, edited: true } });
      // Timestamps as row_to_json writes them.
      const json = await a.query<{ j: { created_at: string } }>(`SELECT row_to_json(m) AS j FROM chat_messages m WHERE id = 'x2'`);
      expect(got[2]!.data.row.created_at).toBe(json.rows[0]!.j.created_at);
      await waitFor(() => c.stats().acknowledged === 4 && c.stats().backlog === 0, () => JSON.stringify(c.stats()));
      const health = (await (await fetch(c.healthUrl)).json()) as { mode: string; slot: { active: boolean; name: string } };
      expect(health.mode).toBe('wal');
        expect(health.slot.name).toMatch(/^ably_[0-9a-f]{12}$/);
      const metrics = await (await fetch(c.metricsUrl)).text();
      expect(metrics).toMatch(/ably_connector_slot_lag_bytes \d/);
    } finally {
      await a.end();
      await b.end();
    }
  });

  it('carries a TOASTed value through INSERT, an UPDATE that leaves it unchanged, and DELETE', async () => {
    const url = await walDatabase();
    const sub = await rooms('t');
    await suite.connector(rawConfig(url));
    const big = randomBytes(30_000).toString('base64'); // incompressible, so stored out of line
    const db = await connect(url);
    try {
      await db.query(`INSERT INTO chat_messages (id, room, author, username, text) VALUES ('big', 't', 'u', 'u', $1)`, [big]);
      const toast = await db.query<{ used: boolean }>(`SELECT pg_relation_size(reltoastrelid) > 0 AS used FROM pg_class WHERE oid = 'chat_messages'::regclass`);
      expect(toast.rows[0]!.used).toBe(true);
      await db.query(`UPDATE chat_messages SET version = 2 WHERE id = 'big'`);
      await db.query(`DELETE FROM chat_messages WHERE id = 'big'`);
    } finally {
      await db.end();
    }
    const got = await sub.until(3);
    expect(got.map((m) => m.name)).toEqual(['INSERT', 'UPDATE', 'DELETE']);
    for (const m of got) expect(m.data.row.text).toBe(big);
    expect(got[1]!.data.row.version).toBe(2);
  });

  it('with replicaIdentity default, an UPDATE leaves out an unchanged TOASTed value and a DELETE carries only the key', async () => {
    const url = await walDatabase();
    const sub = await rooms('k');
    const raw = rawConfig(url, { wal: { replicaIdentity: { chat_messages: 'default' } } });
    // The key alone names no room: DELETEs go to a fixed channel.
    raw.connector = raw.connector.map((m) => (m.operation === 'DELETE' ? { ...m, ablychannelname: 'chat:k:incoming' } : m));
    await suite.connector(raw);
    const big = randomBytes(30_000).toString('base64');
    const db = await connect(url);
    try {
      await db.query(`INSERT INTO chat_messages (id, room, author, username, text) VALUES ('big', 'k', 'u', 'u', $1)`, [big]);
      await db.query(`UPDATE chat_messages SET version = 2 WHERE id = 'big'`);
      await db.query(`DELETE FROM chat_messages WHERE id = 'big'`);
    } finally {
      await db.end();
    }
    const got = await sub.until(3);
    expect(got.map((m) => m.name)).toEqual(['INSERT', 'UPDATE', 'DELETE']);
    expect(got[0]!.data.row.text).toBe(big);
    expect(got[1]!.data.row).toMatchObject({ id: 'big', room: 'k', version: 2 });
    expect(got[1]!.data.row).not.toHaveProperty('text');
    expect(got[2]!.data.row).toEqual({ id: 'big' });
  });

  it('loses and duplicates nothing when killed -9 mid-stream and restarted', async () => {
    const url = await walDatabase();
    const n = 2000;
    const ext = { batch: { maxInFlight: 20 } };
    const cfgPath = await configFile(rawConfig(url, ext));
    const env = realtimeEnv(suite.rt());
    let child: ConnectorChild | undefined = await spawnConnector(cfgPath, env);
    suite.cleanup(() => child?.kill());
    await child.kill('SIGTERM'); // slot created; from here the slot keeps every change
    await commitMany(url, n);
    const sub = await rooms('r0', 'r1', 'r2', 'r3');
    child = await spawnConnector(cfgPath, env);
    await waitFor(() => sub.got.length >= 500, () => `first deliveries (${sub.got.length})`, 20_000, 1);
    await child.kill('SIGKILL');
    const atKill = sub.got.length;
    expect(atKill).toBeLessThan(n);
    const c = await suite.connector(rawConfig(url, ext));
    // Drained only once the slot has been read to its end: the harness's quiesce relies on it.
    await waitFor(() => c.isActive() && c.stats().backlog === 0, () => JSON.stringify(c.stats()), 30_000);
    expect(c.stats().acknowledged).toBeGreaterThanOrEqual(n - atKill);
    await sub.until(n, 30_000);
    await waitFor(() => c.stats().acknowledged >= n - atKill, () => JSON.stringify(c.stats()), 10_000);
    expectOncePerRow(sub, n);
    console.log(`wal: killed after ${atKill} deliveries; the restart re-sent ${c.stats().published - (n - atKill)} already-delivered changes (dropped by id)`);
  }, 60_000);

  it('a standby takes over the slot when the active instance is killed', async () => {
    const url = await walDatabase();
    const raw = rawConfig(url, { timing: { leaderPollMs: 50 } });
    const env = realtimeEnv(suite.rt());
    const active = await spawnConnector(await configFile(raw), env);
    suite.cleanup(() => active.kill());
    const health = async () => (await (await fetch(active.healthUrl)).json()) as { active: boolean };
    for (const deadline = Date.now() + 10_000; !(await health()).active; ) {
      if (Date.now() > deadline) throw new Error('child never became active');
      await new Promise((r) => setTimeout(r, 20));
    }
    const standby = await suite.connector(raw);
    expect(standby.isActive()).toBe(false);
    const sub = await rooms('r0', 'r1', 'r2', 'r3');
    await commitMany(url, 1000);
    await waitFor(() => sub.got.length >= 1, () => 'a delivery from the active instance', 10_000, 1);
    await active.kill('SIGKILL');
    await waitFor(() => standby.isActive(), () => 'takeover', 10_000, 1);
    const db = await connect(url);
    try {
      await db.query(`INSERT INTO chat_messages (id, room, author, username, text) VALUES ('m1000', 'r0', 'u', 'u', 'after')`);
    } finally {
      await db.end();
    }
    await sub.until(1001, 20_000);
    expectOncePerRow(sub, 1001);
  }, 60_000);

  it('warns, naming max_slot_wal_keep_size, and counts when the slot is left unconsumed', async () => {
    const url = await walDatabase();
    // Another holder of the leader lock keeps this instance a standby, so nothing reads the slot.
    const holder = await connect(url);
    suite.cleanup(() => holder.end());
    await holder.query('SELECT pg_advisory_lock(7301003, hashtext(current_schema()))');
    const { logger, lines } = capturingLogger();
    const raw = rawConfig(url, { wal: { unconsumedWarnSeconds: 1, lagPollMs: 50 } });
    const c = await new Connector(parseConnectorConfig(raw, realtimeEnv(suite.rt())), { logger }).start();
    suite.cleanup(() => c.stop());
    await waitFor(() => lines().some((l) => String(l.msg).includes('no consumer')), () => 'the unconsumed-slot warning', 10_000, 20);
    const warning = String(lines().find((l) => String(l.msg).includes('no consumer'))!.msg);
    expect(warning).toMatch(/^replication slot ably_[0-9a-f]{12} has had no consumer for \d+ s .*max_slot_wal_keep_size \(now -1\).*pg_drop_replication_slot/);
    expect(c.isActive()).toBe(false);
    const metrics = await (await fetch(c.metricsUrl)).text();
    expect(Number(/ably_connector_slot_unconsumed_seconds ([\d.]+)/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
  });

  it('refuses to start without the REPLICATION privilege, naming the setting and the fix', async () => {
    const url = await freshDatabase();
    const role = `r_${randomBytes(4).toString('hex')}`;
    const admin = await connect(url);
    try {
      await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD 'pw' NOREPLICATION`);
      await admin.query(`ALTER TABLE chat_messages OWNER TO ${role}`);
      await admin.query(`GRANT CREATE ON DATABASE ${new URL(url).pathname.slice(1)} TO ${role}`);
      await admin.query(`GRANT CREATE ON SCHEMA public TO ${role}`);
    } finally {
      await admin.end();
    }
    const u = new URL(url);
    u.username = role;
    u.password = 'pw';
    const start = new Connector(parseConnectorConfig(rawConfig(u.toString()), realtimeEnv(suite.rt()))).start();
    await expect(start).rejects.toThrow(SetupError);
    await expect(start).rejects.toThrow(new RegExp(`^role ${role} lacks the REPLICATION privilege: ALTER ROLE "${role}" WITH REPLICATION`));
  });
});
