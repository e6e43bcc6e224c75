import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import type { StartedRealtime } from '../../harness/realtime/index.ts';
import { freshDatabase } from '../../harness/testing/pg.ts';
import { Connector, parseConnectorConfig, type StartedConnector } from '../src/index.ts';
import { connect } from '../testing/db.ts';
import { capturingLogger } from '../testing/log.ts';
import { Subscriber, realtimeEnv, startRealtime, waitFor } from '../testing/realtime.ts';

const MAX = 256 * 1024;
let rt: StartedRealtime;
let sub: Subscriber;
const stops: Array<() => Promise<void>> = [];

beforeAll(async () => {
  rt = await startRealtime(MAX);
  sub = new Subscriber(rt);
  await sub.subscribe('chat:big:incoming', 'chat:small:incoming');
});
afterAll(async () => {
  for (const s of stops.reverse()) await s();
  sub?.close();
  await rt?.stop();
});

async function start(url: string, extensions: Record<string, unknown>, logger: ReturnType<typeof capturingLogger>['logger']): Promise<StartedConnector> {
  const cfg = parseConnectorConfig(
    {
      connector: ['INSERT', 'UPDATE', 'DELETE'].map((operation) => ({ tablename: 'chat_messages', ablychannelname: 'chat:{room}:incoming', operation })),
      extensions: { database: { url }, channelTemplates: true, ...extensions },
    },
    realtimeEnv(rt),
  );
  const c = await new Connector(cfg, { logger }).start();
  stops.push(() => c.stop());
  await waitFor(() => c.isActive(), () => 'leadership');
  return c;
}

const insert = (db: pg.Client, id: string, room: string, text: string) =>
  db.query(`INSERT INTO chat_messages (id, room, author, username, text) VALUES ($1, $2, 'u', 'u', $3)`, [id, room, text]);

describe('large rows', () => {
  it('delivers a 100 KB row; a row over the limit is logged, counted and set aside without blocking the queue', async () => {
    const url = await freshDatabase();
    const log = capturingLogger();
    const c = await start(url, {}, log.logger);
    const db = await connect(url);
    try {
      await insert(db, 'big-1', 'big', 'b'.repeat(100 * 1024));
      await insert(db, 'huge-1', 'big', 'h'.repeat(300 * 1024)); // the writer never sees the connector's limit
      await insert(db, 'small-1', 'small', 'after the huge one');
      await sub.until(2);
      await new Promise((r) => setTimeout(r, 100));
      expect(sub.got.map((m) => [m.channel, m.data.row.id, String(m.data.row.text).length])).toEqual([
        ['chat:big:incoming', 'big-1', 100 * 1024],
        ['chat:small:incoming', 'small-1', 18],
      ]);
      await waitFor(() => c.stats().errors === 1, () => `error count (${JSON.stringify(c.stats())})`);
      const logged = log.lines().find((l) => l.level === 50);
      expect(String(logged?.msg)).toMatch(/chat_messages INSERT outbox seq \d+ id="huge-1": message of \d+ bytes exceeds the realtime limit of 262144 bytes/);
      const dead = await db.query(`SELECT row_data->>'id' AS id, error FROM ably_outbox_dead`);
      expect(dead.rows).toHaveLength(1);
      expect(dead.rows[0].id).toBe('huge-1');
      const metrics = await (await fetch(c.metricsUrl)).text();
      expect(metrics).toMatch(/ably_connector_errors_total\{kind="too_large"\} 1/);
      // A row too large to travel in its NOTIFY still keeps its place on the channel.
      for (let i = 0; i < 5; i++) {
        await insert(db, `mixed-big-${i}`, 'big', 'm'.repeat(20_000));
        await insert(db, `mixed-small-${i}`, 'big', 'tiny');
      }
      await sub.until(12);
      expect(sub.on('chat:big:incoming').slice(1).map((m) => m.data.row.id)).toEqual(
        [0, 1, 2, 3, 4].flatMap((i) => [`mixed-big-${i}`, `mixed-small-${i}`]),
      );
      await waitFor(() => c.stats().backlog === 0, () => JSON.stringify(c.stats()), 5000, 20);
    } finally {
      await db.end();
    }
  });

  it('notify mode: the writer never fails on a row over NOTIFY\'s 8000 bytes; the change is reported, others flow', async () => {
    const url = await freshDatabase();
    const log = capturingLogger();
    sub.got.length = 0;
    const c = await start(url, { mode: 'notify', messageName: 'original' }, log.logger);
    const db = await connect(url);
    try {
      await insert(db, 'n-big', 'big', 'x'.repeat(20_000));
      await insert(db, 'n-small', 'small', 'fits');
      await sub.until(1);
      expect(sub.got.map((m) => [m.name, m.data.row.id])).toEqual([['New message from the Ably/ Postgres connector', 'n-small']]);
      await waitFor(() => c.stats().errors === 1, () => JSON.stringify(c.stats()));
      expect(log.lines().some((l) => /chat_messages \(INSERT id="n-big"\) was \d+ bytes, over NOTIFY's 8000-byte limit/.test(String(l.msg)))).toBe(true);
    } finally {
      await db.end();
    }
  });
});
