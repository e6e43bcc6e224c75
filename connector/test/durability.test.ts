import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freshDatabase } from '../../harness/testing/pg.ts';
import type { StartedConnector } from '../src/index.ts';
import { spawnConnector, type ConnectorChild } from '../testing/child.ts';
import { connect } from '../testing/db.ts';
import { Subscriber, realtimeEnv, waitFor } from '../testing/realtime.ts';
import { realtimeSuite } from '../testing/suite.ts';

const ROOMS = ['r0', 'r1', 'r2', 'r3'];
const CHANGES = 10_000;

const suite = realtimeSuite();

function rawConfig(url: string, extensions: Record<string, unknown> = {}) {
  return {
    connector: ['INSERT', 'UPDATE', 'DELETE'].map((operation) => ({ tablename: 'chat_messages', ablychannelname: 'chat:{room}:incoming', operation })),
    extensions: { database: { url }, channelTemplates: true, ...extensions },
  };
}

const started = (url: string, extensions: Record<string, unknown> = {}): Promise<StartedConnector> => suite.connector(rawConfig(url, extensions));

const subscriber = (): Promise<Subscriber> => suite.subscriber(...ROOMS.map((r) => `chat:${r}:incoming`));

/** 10,000 changes in 20 transactions: 8,000 inserts, then an update of every fourth row. */
async function commitChanges(url: string): Promise<void> {
  const db = await connect(url);
  try {
    for (let t = 0; t < 16; t++) {
      await db.query(
        `INSERT INTO chat_messages (id, room, author, username, text)
         SELECT 'm' || g, 'r' || (g % 4), 'u', 'u', 'bulk ' || g FROM generate_series($1::int, $2::int) g`,
        [t * 500, t * 500 + 499],
      );
    }
    for (let t = 0; t < 4; t++) {
      await db.query(`UPDATE chat_messages SET version = 2, text = 'v2' WHERE (substr(id, 2)::int) % 16 = $1`, [t * 4]);
    }
    const n = await db.query(`SELECT count(*)::int AS n FROM ably_outbox`);
    expect(n.rows[0].n).toBe(CHANGES);
  } finally {
    await db.end();
  }
}

function expectExactlyOnce(sub: Subscriber): void {
  const ids = new Set(sub.got.map((m) => m.id));
  expect(ids.size).toBe(CHANGES);
  expect(sub.got).toHaveLength(CHANGES);
  const changes = new Set(sub.got.map((m) => `${m.data.row.id}/${m.name}/${m.data.row.version}`));
  expect(changes.size).toBe(CHANGES);
  // Per channel, each row's INSERT precedes its UPDATE.
  const seen = new Set<string>();
  for (const m of sub.got) {
    if (m.name === 'UPDATE') expect(seen.has(String(m.data.row.id)), `insert of ${m.data.row.id} first`).toBe(true);
    seen.add(String(m.data.row.id));
  }
}

describe('durability', () => {
  it('delivers 10,000 changes committed while the connector was stopped, none twice', async () => {
    const url = await freshDatabase();
    const first = await started(url);
    await first.stop();
    await commitChanges(url);
    const sub = await subscriber();
    const t0 = performance.now();
    const c = await started(url);
    await sub.until(CHANGES, 30_000);
    const ms = performance.now() - t0;
    await new Promise((r) => setTimeout(r, 100));
    expectExactlyOnce(sub);
    await waitFor(() => c.stats().acknowledged === CHANGES, () => JSON.stringify(c.stats()));
    console.log(`10,000 queued changes drained in ${ms.toFixed(0)} ms (${((CHANGES / ms) * 1000).toFixed(0)}/s)`);
  }, 60_000);

  it('batches a backlog into multi-message publishes, in order, each message once', async () => {
    const url = await freshDatabase();
    const ext = { batch: { maxMessages: 20 } };
    await (await started(url, ext)).stop();
    await commitChanges(url);
    const sub = await subscriber();
    const c = await started(url, ext);
    await sub.until(CHANGES, 30_000);
    await new Promise((r) => setTimeout(r, 100));
    expectExactlyOnce(sub);
    expect(sub.got.some((m) => /-g:\d+$/.test(m.id))).toBe(true);
    await waitFor(() => c.stats().backlog === 0, () => JSON.stringify(c.stats()), 5000, 20);
  }, 60_000);

  it('delivers everything after a kill -9 mid-drain, none twice by message id', async () => {
    const url = await freshDatabase();
    // Small reads and few publishes in flight make the drain long enough to be killed in the middle.
    const ext = { batch: { maxInFlight: 20, drainLimit: 100 } };
    const dir = mkdtempSync(join(tmpdir(), 'connector-kill-'));
    const cfgPath = join(dir, 'chat.json');
    writeFileSync(cfgPath, JSON.stringify(rawConfig(url, ext)));
    const env = realtimeEnv(suite.rt());
    let child: ConnectorChild | undefined = await spawnConnector(cfgPath, env);
    suite.cleanup(() => child?.kill());
    await child.kill('SIGTERM'); // set up, then stopped: the triggers capture from now on
    await commitChanges(url);
    const sub = await subscriber();
    child = await spawnConnector(cfgPath, env);
    await waitFor(() => sub.got.length >= 1000, () => `first deliveries (${sub.got.length})`, 20_000, 1);
    await child.kill('SIGKILL');
    const atKill = sub.got.length;
    expect(atKill).toBeLessThan(CHANGES);
    const beforeRestart = sub.got.length;
    const c = await started(url, ext);
    await sub.until(CHANGES, 30_000);
    await new Promise((r) => setTimeout(r, 100));
    expectExactlyOnce(sub);
    await waitFor(() => c.stats().backlog === 0, () => JSON.stringify(c.stats()), 5000, 20);
    console.log(`killed after ${atKill} deliveries; the restarted connector re-sent ${c.stats().published - (CHANGES - beforeRestart)} already-delivered rows (dropped by id)`);
  }, 60_000);
});
