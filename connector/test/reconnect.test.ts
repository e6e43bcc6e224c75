import { describe, expect, it } from 'vitest';
import type pg from 'pg';
import { freshDatabase } from '../../harness/testing/pg.ts';
import { Connector, parseConnectorConfig, type StartedConnector } from '../src/index.ts';
import { connect } from '../testing/db.ts';
import { startProxy } from '../testing/proxy.ts';
import { Subscriber, realtimeEnv, waitFor } from '../testing/realtime.ts';
import { realtimeSuite } from '../testing/suite.ts';

const suite = realtimeSuite();

async function setup(url: string, extensions: Record<string, unknown> = {}, writerUrl = url): Promise<{ c: StartedConnector; sub: Subscriber; db: pg.Client }> {
  const sub = new Subscriber(suite.rt());
  suite.cleanup(() => sub.close());
  await sub.subscribe('chat:r:incoming');
  const raw = {
    connector: ['INSERT'].map((operation) => ({ tablename: 'chat_messages', ablychannelname: 'chat:{room}:incoming', operation })),
    extensions: { database: { url }, channelTemplates: true, timing: { reconnectMinMs: 20, reconnectMaxMs: 200, leaderPollMs: 50 }, ...extensions },
  };
  const c = await new Connector(parseConnectorConfig(raw, realtimeEnv(suite.rt()))).start();
  suite.cleanup(() => c.stop());
  await waitFor(() => c.isActive(), () => 'leadership');
  const db = await connect(writerUrl);
  suite.cleanup(() => db.end());
  return { c, sub, db };
}

let n = 0;
const insert = (db: pg.Client, count = 1) =>
  db.query(`INSERT INTO chat_messages (id, room, author, username, text) SELECT 'x' || g, 'r', 'u', 'u', 't' FROM generate_series($1::int, $2::int) g`, [n, (n += count) - 1]);

function expectOnce(sub: Subscriber, count: number): void {
  expect(new Set(sub.got.map((m) => m.id)).size).toBe(count);
  expect(sub.got).toHaveLength(count);
}

describe('reconnect', () => {
  it('reconnects after Postgres ends its sessions and catches up on what was committed meanwhile', async () => {
    const url = await freshDatabase();
    const { c, sub, db } = await setup(url);
    await insert(db, 50);
    await sub.until(50);
    const ended = await db.query(`SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name LIKE 'ably-connector%' AND datname = current_database()`);
    expect(ended.rows[0].n).toBe(2);
    await insert(db, 50); // committed while the connector is reconnecting
    await sub.until(100);
    await new Promise((r) => setTimeout(r, 100));
    expectOnce(sub, 100);
    expect(c.stats().reconnects).toBeGreaterThanOrEqual(1);
    await waitFor(() => c.isActive(), () => 'leadership again');
  });

  it('keeps publishing in order, once each, when the realtime connection drops', async () => {
    const url = await freshDatabase();
    const { c, sub, db } = await setup(url);
    const batches = Array.from({ length: 10 }, (_, i) => i);
    for (const i of batches) {
      await insert(db, 30);
      if (i % 3 === 1) suite.rt().admin.dropConnections();
    }
    await sub.until(300, 20_000);
    await new Promise((r) => setTimeout(r, 100));
    expectOnce(sub, 300);
    const order = sub.got.map((m) => Number(String(m.data.row.id).slice(1)));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(c.stats().reconnects).toBeGreaterThanOrEqual(1);
  });

  it('notices a silently dead LISTEN connection and takes its own stale lock back', async () => {
    const base = new URL(await freshDatabase());
    const proxy = await startProxy(base.hostname, Number(base.port));
    suite.cleanup(() => proxy.close());
    const viaProxy = new URL(base);
    viaProxy.port = String(proxy.port);
    const { c, sub, db } = await setup(viaProxy.toString(), { timing: { pollIntervalMs: 100, queryTimeoutMs: 500, reconnectMinMs: 20, reconnectMaxMs: 200, leaderPollMs: 50 } }, base.toString());
    await insert(db, 10);
    await sub.until(10);
    expect(proxy.freezeExisting()).toBeGreaterThanOrEqual(2); // the connector's sessions go silent
    const frozenAt = performance.now();
    await insert(db, 10); // the writer connects directly: it commits; the wake-up is lost on the dead link
    await sub.until(20, 10_000);
    const recoveredMs = performance.now() - frozenAt;
    expectOnce(sub, 20);
    expect(c.stats().reconnects).toBeGreaterThanOrEqual(1);
    // The frozen backend still held the leader lock; the connector ended it rather than wait hours for TCP.
    const stale = await db.query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`);
    expect(stale.rows[0].n).toBe(1);
    console.log(`silent connection loss: delivering again ${recoveredMs.toFixed(0)} ms after the freeze (query timeout 500 ms, poll 100 ms)`);
  });
});
