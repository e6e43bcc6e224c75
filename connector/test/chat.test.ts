import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StartedRealtime } from '../../harness/realtime/index.ts';
import { freshDatabase } from '../../harness/testing/pg.ts';
import { Connector, parseConnectorConfig, type StartedConnector } from '../src/index.ts';
import { connect } from '../testing/db.ts';
import { Subscriber, realtimeEnv, startRealtime, waitFor } from '../testing/realtime.ts';

const ROOMS = ['lobby', 'den', 'attic'];
const WRITERS = 8;
const MESSAGES_PER_WRITER = 25;

let rt: StartedRealtime;
let url: string;
let connector: StartedConnector;
let sub: Subscriber;

function chatConfig(dbUrl: string) {
  return parseConnectorConfig(
    {
      connector: ['INSERT', 'UPDATE', 'DELETE'].map((operation) => ({ tablename: 'chat_messages', ablychannelname: 'chat:{room}:incoming', operation })),
      extensions: { database: { url: dbUrl }, mode: 'durable', messageName: 'operation', channelTemplates: true },
    },
    realtimeEnv(rt),
  );
}

beforeAll(async () => {
  rt = await startRealtime();
  url = await freshDatabase();
  sub = new Subscriber(rt);
  await sub.subscribe(...ROOMS.map((r) => `chat:${r}:incoming`));
  connector = await new Connector(chatConfig(url)).start();
  await waitFor(() => connector.isActive(), () => 'leadership');
});
afterAll(async () => {
  await connector?.stop();
  sub?.close();
  await rt?.stop();
});

interface Op {
  key: string;
  channel: string;
  start: number;
  end: number;
}

describe('chat: chat_messages to chat:{room}:incoming', () => {
  it('delivers inserts, updates and deletes of 8 concurrent writers in commit order', async () => {
    const ops: Op[] = [];
    const writer = async (w: number) => {
      const db = await connect(url);
      try {
        for (let i = 0; i < MESSAGES_PER_WRITER; i++) {
          const id = `w${w}-m${i}`;
          const room = ROOMS[(w + i) % ROOMS.length]!;
          const channel = `chat:${room}:incoming`;
          const run = async (key: string, sql: string, params: unknown[]) => {
            const start = performance.now();
            await db.query(sql, params);
            ops.push({ key, channel, start, end: performance.now() });
          };
          await run(`${id}/INSERT/1`, `INSERT INTO chat_messages (id, room, author, username, text) VALUES ($1, $2, $3, $3, 'hello')`, [id, room, `u${w}`]);
          await run(`${id}/UPDATE/2`, `UPDATE chat_messages SET text = 'edited', version = version + 1, edited = true, updated_at = clock_timestamp() WHERE id = $1`, [id]);
          if (i % 3 === 0) await run(`${id}/DELETE/2`, 'DELETE FROM chat_messages WHERE id = $1', [id]);
        }
      } finally {
        await db.end();
      }
    };
    await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
    await sub.until(ops.length, 20_000);
    await new Promise((r) => setTimeout(r, 50)); // a duplicate would arrive right behind
    expect(sub.got).toHaveLength(ops.length);

    const keyOf = (m: (typeof sub.got)[number]) => `${m.data.row.id}/${m.name}/${m.data.row.version}`;
    const position = new Map(sub.got.map((m, i) => [keyOf(m), i]));
    expect(new Set(sub.got.map((m) => m.id)).size).toBe(ops.length);
    for (const op of ops) expect(position.has(op.key), op.key).toBe(true);
    for (const m of sub.got) {
      expect(m.channel).toBe(`chat:${m.data.row.room}:incoming`);
      expect(m.data.table).toBe('chat_messages');
      expect(m.data.type).toBe(m.name);
      expect(m.data.row.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/);
    }
    // Commit order as any observer can tell it: a change committed before another one began to
    // commit arrives first on its channel.
    let pairs = 0;
    for (const a of ops) {
      for (const b of ops) {
        if (a.channel !== b.channel || !(a.end < b.start)) continue;
        pairs++;
        expect(position.get(a.key)!, `${a.key} before ${b.key}`).toBeLessThan(position.get(b.key)!);
      }
    }
    expect(pairs).toBeGreaterThan(1000);
    await waitFor(() => connector.stats().backlog === 0 && connector.stats().acknowledged === ops.length, () => JSON.stringify(connector.stats()), 5000, 20);
  });

  it('delivers a lower-numbered change that commits later after the higher one, and both', async () => {
    sub.got.length = 0;
    const [t1, t2] = [await connect(url), await connect(url)];
    try {
      await t1.query('BEGIN');
      await t1.query(`INSERT INTO chat_messages (id, room, author, username, text) VALUES ('held', 'lobby', 'u', 'u', 'first number')`);
      await t2.query(`INSERT INTO chat_messages (id, room, author, username, text) VALUES ('quick', 'lobby', 'u', 'u', 'second number')`);
      await sub.until(1);
      await t1.query('COMMIT');
      await sub.until(2);
      expect(sub.got.map((m) => m.data.row.id)).toEqual(['quick', 'held']);
    } finally {
      await t1.end();
      await t2.end();
    }
  });
});
