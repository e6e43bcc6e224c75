/**
 * The write path end to end, every part real: `ably` SDK clients with tokens from the token
 * endpoint publish on the local realtime service; an integration rule invokes chat-writer
 * through the local Lambda Invoke API; rows land in Postgres.
 */
import * as Ably from 'ably';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LambdaService, type StartedLambda } from '../../harness/lambda/index.ts';
import { RealtimeService, type StartedRealtime } from '../../harness/realtime/index.ts';
import { attachRules, parseRule, type IntegrationRuleInput, type RuleInvocationRecord } from '../../harness/realtime/rules/index.ts';
import { freshDatabase } from '../../harness/testing/pg.ts';
import { createChatWriter, type ChatWriter } from './chat-writer.ts';
import { startFunctionsServer, type StartedFunctionsServer } from './server.ts';

let db: pg.Pool;
let rt: StartedRealtime;
let lambda: StartedLambda;
let writer: ChatWriter;
let fns: StartedFunctionsServer;
const clients: Ably.Realtime[] = [];

beforeAll(async () => {
  const url = await freshDatabase();
  db = new pg.Pool({ connectionString: url, max: 2 });
  rt = await new RealtimeService({ keys: [{ keyName: 'app.root', secret: 'root-secret' }] }).start();
  writer = createChatWriter({ databaseUrl: url });
  lambda = await new LambdaService({ functions: { 'chat-writer': writer } }).start();
  fns = await startFunctionsServer({ databaseUrl: url, ablyKey: rt.apiKey, realtimeClientOptions: rt.clientOptions() });
});

afterAll(async () => {
  for (const c of clients) c.close();
  await fns?.stop();
  await lambda?.stop();
  await writer?.close();
  await rt?.stop();
  await db?.end();
});

function rulesFor(room: string, extra: Partial<IntegrationRuleInput> = {}) {
  const rule = parseRule({ id: `chat-${room}`, channelPattern: `^chat:${room}:outgoing$`, functionName: 'chat-writer', mode: 'ordered', ...extra });
  return attachRules(rt, [rule], { endpoint: lambda.endpoint, region: lambda.region, credentials: lambda.credentials });
}

async function signIn(name: string): Promise<string> {
  const res = await fetch(fns.loginUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name }) });
  expect(res.status).toBe(200);
  return res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
}

/** A browser-like client: signed in, with tokens from the token endpoint (authUrl + the cookie). */
async function user(name: string): Promise<Ably.Realtime> {
  const cookie = await signIn(name);
  const client = new Ably.Realtime({ ...rt.clientOptions(), authUrl: fns.tokenUrl, authHeaders: { cookie } });
  clients.push(client);
  await client.connection.once('connected');
  expect(client.auth.clientId).toBe(name);
  return client;
}

async function row(id: string) {
  return (await db.query('SELECT room, author, text, version, edited, deleted FROM chat_messages WHERE id = $1', [id])).rows[0];
}

describe('write path: SDK client -> realtime -> rule -> Lambda -> Postgres', () => {
  it('a post from a token client becomes a row authored by the signed-in user', async () => {
    const rules = rulesFor('e2e-post');
    const alice = await user('alice');
    await alice.channels.get('chat:e2e-post:outgoing').publish({ id: 'e2e-p1', name: 'chat.post', data: { text: 'hello from alice' } });
    await rules.drain();
    await rules.stop();
    expect(await row('e2e-p1')).toEqual({ room: 'e2e-post', author: 'alice', text: 'hello from alice', version: 1, edited: false, deleted: false });
  });

  it('edit and delete by the author apply with version bumps; by another user they do not', async () => {
    const rules = rulesFor('e2e-edit');
    const alice = await user('alice');
    const bob = await user('bob');
    const aliceOut = alice.channels.get('chat:e2e-edit:outgoing');
    const bobOut = bob.channels.get('chat:e2e-edit:outgoing');
    await aliceOut.publish({ id: 'e2e-m', name: 'chat.post', data: { text: 'v1' } });
    await bobOut.publish({ id: 'e2e-m-bob-edit', name: 'chat.edit', data: { id: 'e2e-m', text: 'bob was here' } });
    await bobOut.publish({ id: 'e2e-m-bob-del', name: 'chat.delete', data: { id: 'e2e-m' } });
    await rules.drain();
    expect(await row('e2e-m')).toMatchObject({ text: 'v1', version: 1, deleted: false });
    await aliceOut.publish({ id: 'e2e-m-edit', name: 'chat.edit', data: { id: 'e2e-m', text: 'v2' } });
    await rules.drain();
    expect(await row('e2e-m')).toMatchObject({ text: 'v2', version: 2, edited: true, deleted: false });
    await aliceOut.publish({ id: 'e2e-m-del', name: 'chat.delete', data: { id: 'e2e-m' } });
    await rules.drain();
    await rules.stop();
    expect(await row('e2e-m')).toMatchObject({ version: 3, deleted: true });
    const rej = await db.query("SELECT message_id, author, reason FROM chat_write_rejections WHERE room = 'e2e-edit' ORDER BY message_id");
    expect(rej.rows).toEqual([
      { message_id: 'e2e-m-bob-del', author: 'bob', reason: 'not_author' },
      { message_id: 'e2e-m-bob-edit', author: 'bob', reason: 'not_author' },
    ]);
  });

  it('50 messages published together arrive in one envelope and become 50 rows in order', async () => {
    const rules = rulesFor('e2e-batch', { batching: { enabled: true, maxMessages: 50, maxDelayMs: 500 } });
    const records: RuleInvocationRecord[] = [];
    rules.onInvocation((r) => records.push(r));
    const carol = await user('carol');
    const ids = Array.from({ length: 50 }, (_, i) => `e2e-b-${String(i).padStart(2, '0')}`);
    await carol.channels.get('chat:e2e-batch:outgoing').publish(ids.map((id) => ({ id, name: 'chat.post', data: { text: `text of ${id}` } })));
    await rules.drain();
    await rules.stop();
    const started = records.filter((r) => r.phase === 'started');
    expect(started).toHaveLength(1);
    expect(started[0]!.messageIds).toEqual(ids);
    const rows = await db.query<{ id: string; author: string }>("SELECT id, author FROM chat_messages WHERE room = 'e2e-batch' ORDER BY created_at, id");
    expect(rows.rows.map((r) => r.id)).toEqual(ids);
    expect(new Set(rows.rows.map((r) => r.author))).toEqual(new Set(['carol']));
  });

  it('redelivery of every envelope writes nothing twice', async () => {
    const rules = rulesFor('e2e-dup', { mode: 'ably-lambda', duplicateRate: 1, concurrency: 1 });
    const dave = await user('dave');
    const out = dave.channels.get('chat:e2e-dup:outgoing');
    await out.publish({ id: 'e2e-d1', name: 'chat.post', data: { text: 'once' } });
    await rules.drain();
    await out.publish({ id: 'e2e-d1-e', name: 'chat.edit', data: { id: 'e2e-d1', text: 'edited once' } });
    await rules.drain();
    await out.publish({ id: 'e2e-d1-bad', name: 'chat.post', data: { text: '' } });
    await rules.drain();
    const stats = rules.stats().total;
    await rules.stop();
    expect(stats).toMatchObject({ envelopes: 3, duplicates: 3, succeeded: 6 });
    expect(await row('e2e-d1')).toMatchObject({ text: 'edited once', version: 2 });
    const rej = await db.query("SELECT count(*)::int AS n FROM chat_write_rejections WHERE message_id = 'e2e-d1-bad'");
    expect(rej.rows[0].n).toBe(1);
    expect(writer.stats().duplicates).toBeGreaterThanOrEqual(2);
  });

  it('enforces the token capability end to end: no publishing on incoming, no subscribing to outgoing', async () => {
    const erin = await user('erin');
    await expect(erin.channels.get('chat:e2e-cap:incoming').publish({ name: 'INSERT', data: { row: { id: 'fake' } } })).rejects.toMatchObject({ code: 40160 });
    await expect(erin.channels.get('elsewhere').publish({ name: 'x', data: 'y' })).rejects.toMatchObject({ code: 40160 });
    // As on Ably, a publish-only channel attaches, but without the subscribe mode: nothing is delivered.
    const out = erin.channels.get('chat:e2e-cap:outgoing');
    await out.attach();
    expect(out.modes ?? []).toContain('publish');
    expect(out.modes ?? []).not.toContain('subscribe');
    const incoming = erin.channels.get('chat:e2e-cap:incoming');
    await incoming.attach();
    expect(incoming.modes ?? []).toContain('subscribe');
    expect(incoming.modes ?? []).not.toContain('publish');
    // What the chat needs still works.
    await erin.channels.get('chat:e2e-cap:typing').publish({ name: 'typing', data: { typing: true } });
  });

  it('works with authCallback as well as authUrl', async () => {
    const cookie = await signIn('frank');
    const client = new Ably.Realtime({
      ...rt.clientOptions(),
      authCallback: (_params, cb) => {
        fetch(fns.tokenUrl, { headers: { cookie } })
          .then(async (r) => cb(null, (await r.json()) as Ably.TokenRequest))
          .catch((err: unknown) => cb(String(err), null));
      },
    });
    clients.push(client);
    await client.connection.once('connected');
    expect(client.auth.clientId).toBe('frank');
  });
});
