import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type pg from 'pg';
import { freshDatabase } from '../../harness/testing/pg.ts';
import type { StartedConnector } from '../src/index.ts';
import { objectNames } from '../src/sql.ts';
import { spawnConnector, type ConnectorChild } from '../testing/child.ts';
import { connect } from '../testing/db.ts';
import { Subscriber, realtimeEnv, waitFor } from '../testing/realtime.ts';
import { realtimeSuite } from '../testing/suite.ts';

const ROOMS = ['r0', 'r1', 'r2', 'r3'];
const WAKE_CHANNEL = objectNames('public').wakeChannel;

const suite = realtimeSuite();

function rawConfig(url: string, timing: Record<string, number>) {
  return {
    connector: ['INSERT', 'UPDATE'].map((operation) => ({ tablename: 'chat_messages', ablychannelname: 'chat:{room}:incoming', operation })),
    extensions: { database: { url }, channelTemplates: true, timing },
  };
}

const started = (url: string, timing: Record<string, number> = {}): Promise<StartedConnector> => suite.connector(rawConfig(url, timing));

async function client(url: string): Promise<pg.Client> {
  const c = await connect(url);
  suite.cleanup(() => c.end());
  return c;
}

const subscriber = (): Promise<Subscriber> => suite.subscriber(...ROOMS.map((r) => `chat:${r}:incoming`));

const wake = async (db: pg.Client): Promise<boolean> => (await db.query<{ wake: boolean }>('SELECT wake FROM ably_connector_meta')).rows[0]!.wake;

/** Polls the database (a state no event announces) until `cond` holds. */
async function dbState(cond: () => Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  let ok = false;
  const check = () => void cond().then((v) => (ok = v));
  check();
  await waitFor(() => {
    if (!ok) check();
    return ok;
  }, () => what, timeoutMs, 20);
}

async function insert(db: pg.Client, id: string, room = 'r0'): Promise<void> {
  await db.query(`INSERT INTO chat_messages (id, room, author, username, text) VALUES ($1, $2, 'u', 'u', 't')`, [id, room]);
}

/** 8 writers in a closed loop, each inserting then updating its rows; resolves with the change count. */
async function stream(url: string, perWriter: number): Promise<number> {
  const writers = await Promise.all(Array.from({ length: 8 }, () => client(url)));
  await Promise.all(writers.map(async (w, k) => {
    for (let i = 0; i < perWriter; i++) {
      const id = `w${k}-${i}`;
      await insert(w, id, ROOMS[i % 4]);
      await w.query(`UPDATE chat_messages SET version = 2, text = 'v2' WHERE id = $1`, [id]);
    }
  }));
  return 8 * perWriter * 2;
}

/** Every change once by id, and each row's INSERT before its UPDATE. */
function expectOnceInOrder(sub: Subscriber, changes: number): void {
  expect(new Set(sub.got.map((m) => m.id)).size).toBe(changes);
  expect(sub.got).toHaveLength(changes);
  const inserted = new Set<string>();
  for (const m of sub.got) {
    const id = String(m.data.row.id);
    if (m.name === 'UPDATE') expect(inserted.has(id), `INSERT of ${id} before its UPDATE`).toBe(true);
    else inserted.add(id);
  }
}

describe('writers stop notifying while the connector reads on its own', () => {
  it('under a steady stream: fewer NOTIFYs than changes, each change delivered once, each row in order; wake is set again after', async () => {
    const url = await freshDatabase();
    // A low threshold: the writers below must cross it even on a busy machine.
    await started(url, { pullAbovePerSecond: 200 });
    const sub = await subscriber();
    const db = await client(url);
    const listener = await client(url);
    let notifications = 0;
    listener.on('notification', () => notifications++);
    await listener.query(`LISTEN "${WAKE_CHANNEL}"`);

    // 8 writers in a closed loop: far above the rate at which the connector pulls.
    const PER_WRITER = 250;
    let sawPull = false;
    const watching = (async () => {
      while (!sawPull && sub.got.length < 8 * PER_WRITER * 2) sawPull = (await wake(db)) === false;
    })();
    const changes = await stream(url, PER_WRITER);
    await sub.until(changes, 30_000);
    await watching;
    expect(sawPull).toBe(true);
    expect(notifications).toBeLessThan(changes * 0.8);
    expectOnceInOrder(sub, changes);
    // Idle again: writers notify, and a change arrives without waiting for a poll.
    await dbState(() => wake(db), 'wake set again after the stream');
    const before = sub.got.length;
    await insert(db, 'after');
    await sub.until(before + 1, 5000);
  }, 60_000);

  it('a writer that skipped its NOTIFY just before wake was set is delivered, in commit order', async () => {
    const url = await freshDatabase();
    // A long poll: only the connector's own settling reads can find the silent row in time.
    const timing = { pollIntervalMs: 60_000 };
    await (await started(url, timing)).stop();
    const db = await client(url);
    await db.query('UPDATE ably_connector_meta SET wake = false'); // as a connector that died pulling leaves it
    const silent = await client(url);
    await silent.query('BEGIN');
    await insert(silent, 'a-silent'); // reads wake = false: no NOTIFY when it commits
    const sub = await subscriber();
    await started(url, timing);
    await dbState(() => wake(db), 'wake set by the new connector');
    await insert(db, 'b-first');
    await sub.until(1);
    await silent.query('COMMIT');
    await insert(db, 'c-last');
    await sub.until(3);
    expect(sub.on('chat:r0:incoming').map((m) => m.data.row.id)).toEqual(['b-first', 'a-silent', 'c-last']);
  }, 30_000);

  it('a connector killed while pulling: its successor delivers the rest once and in order, and writers notify again', async () => {
    const url = await freshDatabase();
    // Far below the writers' 250/s, so a loaded machine's slower stream does not leave pull mode (below 40%) before the kill.
    const timing = { pullAbovePerSecond: 100 };
    const dir = mkdtempSync(join(tmpdir(), 'connector-wake-'));
    const cfgPath = join(dir, 'chat.json');
    writeFileSync(cfgPath, JSON.stringify(rawConfig(url, timing)));
    let child: ConnectorChild | undefined = await spawnConnector(cfgPath, realtimeEnv(suite.rt()));
    suite.cleanup(() => child?.kill());
    const sub = await subscriber();
    const db = await client(url);
    const streaming = stream(url, 250);
    await dbState(async () => (await wake(db)) === false, 'the connector pulling');
    await child.kill('SIGKILL');
    child = undefined;
    const changes = await streaming;
    // Left as the dead connector set it: writers committed the rest without a NOTIFY.
    expect(await wake(db)).toBe(false);
    await started(url, timing);
    await sub.until(changes, 30_000);
    expectOnceInOrder(sub, changes);
    await dbState(() => wake(db), 'wake set by the successor');
  }, 60_000);
});
