/**
 * Issue 12's promise for the reference chat-writer: under Ably + Lambda's real delivery
 * (parallel, duplicated, retried, reordered) the database ends equal to the one an ideal,
 * ordered delivery produces from the same published operations.
 *
 * Both rules watch the same channels, so both writers see the very same messages (ids,
 * clientIds, timestamps); each writes its own database.
 */
import * as Ably from 'ably';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { LambdaService, type StartedLambda } from '../../harness/lambda/index.ts';
import { RealtimeService, type StartedRealtime } from '../../harness/realtime/index.ts';
import { randomSource } from '../../harness/lib/rng.ts';
import { summarizeDeliveries } from '../../harness/runner/delivery-summary.ts';
import { attachRules, parseRule, type AttachedRules, type RuleInvocationRecord } from '../../harness/realtime/rules/index.ts';
import { freshDatabase } from '../../harness/testing/pg.ts';
import { createChatWriter, heldIn, type ChatWriter } from './chat-writer.ts';

const USERS = ['ann', 'ben', 'cat', 'dan'];
const ROOMS = ['r1', 'r2'];
const OPS_PER_USER = 40;

let rt: StartedRealtime;
let lambda: StartedLambda;
let dbOrdered: pg.Pool;
let dbAsync: pg.Pool;
let writerOrdered: ChatWriter;
let writerAsync: ChatWriter;
let ordered: AttachedRules;
let async_: AttachedRules;
const clients: Ably.Realtime[] = [];

beforeAll(async () => {
  const [u1, u2] = await Promise.all([freshDatabase(), freshDatabase()]);
  dbOrdered = new pg.Pool({ connectionString: u1, max: 2 });
  dbAsync = new pg.Pool({ connectionString: u2, max: 2 });
  writerOrdered = createChatWriter({ databaseUrl: u1 });
  writerAsync = createChatWriter({ databaseUrl: u2 });
  rt = await new RealtimeService({ keys: [{ keyName: 'app.root', secret: 'root-secret' }] }).start();
  lambda = await new LambdaService({
    functions: {
      'writer-ordered': writerOrdered,
      // Uneven start-up latency, as separate Lambda instances have.
      'writer-async': async (event, ctx) => {
        await new Promise((r) => setTimeout(r, Math.random() * 50));
        return writerAsync(event, ctx);
      },
    },
  }).start();
  // Fail after the writes committed: the retry then re-runs work that already happened.
  lambda.setFault('writer-async', { errorRate: 0.1, errorWhen: 'after', seed: 11 });
  const target = { endpoint: lambda.endpoint, region: lambda.region, credentials: lambda.credentials };
  ordered = attachRules(rt, [parseRule({ id: 'ordered', channelPattern: '^chat:.*:outgoing$', functionName: 'writer-ordered', mode: 'ordered' })], target);
  async_ = attachRules(
    rt,
    [parseRule({ id: 'ably', channelPattern: '^chat:.*:outgoing$', functionName: 'writer-async', mode: 'ably-lambda', concurrency: 8, duplicateRate: 0.2, timeScale: 1 / 600, seed: 5 })],
    target,
  );
});

afterAll(async () => {
  for (const c of clients) c.close();
  await ordered?.stop();
  await async_?.stop();
  await lambda?.stop();
  await rt?.stop();
  await writerOrdered?.close();
  await writerAsync?.close();
  await dbOrdered?.end();
  await dbAsync?.end();
});

async function snapshot(db: pg.Pool) {
  const rows = await db.query('SELECT id, room, author, text, version, edited, deleted FROM chat_messages ORDER BY id');
  const rejections = await db.query('SELECT message_id, reason FROM chat_write_rejections ORDER BY message_id, reason');
  return { rows: rows.rows, rejections: rejections.rows };
}

it('ably-lambda delivery (20% duplicates, 10% function errors) ends with the database of ordered delivery', async () => {
  const records: RuleInvocationRecord[] = [];
  async_.onInvocation((r) => records.push(r));
  const posted: Array<{ id: string; author: string; room: string }> = [];
  await Promise.all(
    USERS.map(async (name, u) => {
      // Trusted test clients: a key with a clientId (the realtime service stamps it on every message).
      const client = new Ably.Realtime({ ...rt.clientOptions(), key: rt.apiKey, clientId: name });
      clients.push(client);
      await client.connection.once('connected');
      const random = randomSource(100 + u);
      const mine: Array<{ id: string; room: string; deleted: boolean }> = [];
      for (let i = 0; i < OPS_PER_USER; i++) {
        const p = random();
        const live = mine.filter((m) => !m.deleted);
        // Mostly the newest post, as a user fixing a typo does: that edit races its post.
        const target = random() < 0.7 ? live[live.length - 1] : live[Math.floor(random() * live.length)];
        const opId = `${name}-${i}`;
        if (target && p < 0.35) {
          await client.channels.get(`chat:${target.room}:outgoing`).publish({ id: opId, name: 'chat.edit', data: { id: target.id, text: `${opId} edits ${target.id}` } });
        } else if (target && p < 0.5) {
          target.deleted = true;
          await client.channels.get(`chat:${target.room}:outgoing`).publish({ id: opId, name: 'chat.delete', data: { id: target.id } });
        } else if (p < 0.55 && posted.length > 0) {
          const victim = posted[Math.floor(random() * posted.length)]!;
          await client.channels.get(`chat:${victim.room}:outgoing`).publish({ id: opId, name: 'chat.edit', data: { id: victim.id, text: 'not yours' } });
        } else {
          const room = ROOMS[Math.floor(random() * ROOMS.length)]!;
          const out = client.channels.get(`chat:${room}:outgoing`);
          const postDone = out.publish({ id: opId, name: 'chat.post', data: { text: `post ${opId}` } });
          // Sometimes a typo fixed at once: the edit is published right behind its post and races it.
          const fixes = random() < 0.4 ? (random() < 0.5 ? 2 : 1) : 0;
          const edits = Array.from({ length: fixes }, (_, k) =>
            out.publish({ id: `${opId}-fix${k}`, name: 'chat.edit', data: { id: opId, text: `${opId} fixed ${k}` } }),
          );
          await Promise.all([postDone, ...edits]);
          mine.push({ id: opId, room, deleted: false });
          posted.push({ id: opId, author: name, room });
        }
      }
    }),
  );
  await Promise.all([ordered.drain(), async_.drain()]);

  const a = await snapshot(dbOrdered);
  const b = await snapshot(dbAsync);
  expect(a.rows.length).toBeGreaterThan(40);
  expect(b).toEqual(a);

  // The comparison only means something if the faithful mode really misbehaved.
  const s = summarizeDeliveries(records, { countInResult: heldIn });
  const st = async_.stats().total;
  expect(st.functionErrors).toBeGreaterThan(0);
  expect(st.duplicates).toBeGreaterThan(0);
  // st.dropped may be non-zero: an envelope failing all three attempts *after* its writes is
  // dropped by AWS, yet its writes stand, so the databases still agree.
  expect(s.outOfOrder).toBeGreaterThan(0);
  expect(writerAsync.stats().held).toBeGreaterThan(0);
  // Responses of invocations failed after the handler ran are lost, so the count seen here can be lower.
  expect(s.countedInResults).toBeLessThanOrEqual(writerAsync.stats().held);
  expect(writerAsync.stats().duplicates).toBeGreaterThan(0);
  expect(ordered.stats().total.functionErrors).toBe(0);
  expect(writerOrdered.stats().held).toBe(0);
});
