import { LambdaClient } from '@aws-sdk/client-lambda';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LambdaService, type StartedLambda } from '../../harness/lambda/index.ts';
import { freshDatabase } from '../../harness/testing/pg.ts';
import { createChatWriter, type ChatWriter, type ChatWriterResult } from './chat-writer.ts';
import { del, edit, envelope, invoke, post } from './test-support.ts';

let db: pg.Pool;
let lambda: StartedLambda;
let client: LambdaClient;
let writer: ChatWriter;
let quickHold: ChatWriter;

beforeAll(async () => {
  const url = await freshDatabase();
  db = new pg.Pool({ connectionString: url, max: 2 });
  writer = createChatWriter({ databaseUrl: url, logger: pino({ level: 'silent' }) });
  quickHold = createChatWriter({ databaseUrl: url, holdMs: 1, sweepEveryMs: 0 });
  lambda = await new LambdaService({
    functions: { 'chat-writer': writer, 'chat-writer-quick-hold': quickHold, 'chat-writer-no-db': createChatWriter({ databaseUrl: 'postgres://x:y@127.0.0.1:1/none' }) },
  }).start();
  client = new LambdaClient({ endpoint: lambda.endpoint, region: lambda.region, credentials: lambda.credentials, maxAttempts: 1 });
});

afterAll(async () => {
  client?.destroy();
  await lambda?.stop();
  await writer?.close();
  await quickHold?.close();
  await db?.end();
});

async function write(event: unknown, fn = 'chat-writer'): Promise<ChatWriterResult> {
  const r = await invoke(client, fn, event);
  if (r.error) throw new Error(`invocation failed: ${JSON.stringify(r.payload)}`);
  return r.payload as ChatWriterResult;
}

async function row(id: string) {
  return (await db.query('SELECT id, room, author, username, text, version, edited, deleted FROM chat_messages WHERE id = $1', [id])).rows[0];
}

async function rejections(id: string): Promise<string[]> {
  return (await db.query<{ reason: string }>('SELECT reason FROM chat_write_rejections WHERE message_id = $1 ORDER BY seq', [id])).rows.map((r) => r.reason);
}

describe('chat-writer through the local Lambda endpoint', () => {
  it('inserts a post keyed by the realtime message id, authored by the clientId', async () => {
    const r = await write(envelope('lobby', [post('p1', 'alice', 'hello')]));
    expect(r.results).toEqual([{ id: 'p1', outcome: 'applied' }]);
    expect(await row('p1')).toMatchObject({ room: 'lobby', author: 'alice', username: 'alice', text: 'hello', version: 1, edited: false, deleted: false });
  });

  it('stores hostile text and ids byte for byte, whichever round-trip path the write takes', async () => {
    // The one-trip post writes values as literals: quotes, backslashes, $n and statement ends must stay data.
    const nasty = `it's \\' ; DROP TABLE chat_messages; -- $1 $$ E'\\x00' ✓ 🙂`;
    const id = `q'1\\$1;--`;
    const r = await write(envelope('lobby', [post(id, "o'brien", nasty), edit(`${id}-e`, "o'brien", id, `${nasty} (edited)`)]));
    expect(r.results).toEqual([{ id, outcome: 'applied' }, { id: `${id}-e`, outcome: 'applied' }]);
    expect(await row(id)).toMatchObject({ id, author: "o'brien", text: `${nasty} (edited)`, version: 2, edited: true });
    expect((await db.query('SELECT count(*)::int AS n FROM chat_messages')).rows[0].n).toBeGreaterThan(0);
  });

  it('records send order: the publish timestamp and the client sequence, whatever order the posts commit in', async () => {
    const t0 = 1_800_000_000_000;
    const seqPost = (id: string, ts: number, seq: unknown) => ({ ...post(id, 'sue', id, ts), data: { text: id, seq } });
    // Delivered newest first, as an unordered integration may; two posts share one millisecond.
    await write(envelope('order', [seqPost('o3', t0 + 5, 12), seqPost('o2', t0, 11)]));
    await write(envelope('order', [seqPost('o1', t0, 10), seqPost('o0', t0 - 1, 'not a number')]));
    const rows = (
      await db.query<{ id: string; seq: string | null; ms: number }>(
        `SELECT id, client_seq::text AS seq, (extract(epoch FROM sent_at) * 1000)::float8 AS ms FROM chat_messages
         WHERE room = 'order' ORDER BY sent_at, client_seq NULLS FIRST`,
      )
    ).rows;
    expect(rows).toEqual([
      { id: 'o0', seq: null, ms: t0 - 1 },
      { id: 'o1', seq: '10', ms: t0 },
      { id: 'o2', seq: '11', ms: t0 },
      { id: 'o3', seq: '12', ms: t0 + 5 },
    ]);
  });

  it('writes every message of a 50-message envelope, in order', async () => {
    const msgs = Array.from({ length: 50 }, (_, i) => post(`batch-${String(i).padStart(2, '0')}`, 'bob', `message ${i}`));
    const r = await write(envelope('batch', msgs));
    expect(r.results.filter((x) => x.outcome === 'applied')).toHaveLength(50);
    const rows = (await db.query<{ id: string }>("SELECT id FROM chat_messages WHERE room = 'batch' ORDER BY created_at, id")).rows;
    expect(rows.map((x) => x.id)).toEqual(msgs.map((m) => m.id));
  });

  it('makes redelivery harmless: nothing is written twice', async () => {
    const ev = envelope('redo', [post('r1', 'carol', 'first'), edit('r1-e1', 'carol', 'r1', 'second'), post('r2', 'carol', ''), del('r1-d', 'carol', 'r1')]);
    await write(ev);
    const before = await row('r1');
    const again = await write(ev);
    expect(again.results.map((x) => x.outcome)).toEqual(['duplicate', 'duplicate', 'rejected', 'duplicate']);
    expect(await row('r1')).toEqual(before);
    expect(before).toMatchObject({ version: 3, text: 'second', deleted: true });
    expect(await rejections('r2')).toEqual(['empty_text']);
  });

  it('applies edit and delete by the author with version bumps, refuses them from anyone else', async () => {
    await write(envelope('auth', [post('a1', 'dave', 'original')]));
    const r = await write(envelope('auth', [edit('a1-x', 'mallory', 'a1', 'hacked'), del('a1-y', 'mallory', 'a1'), edit('a1-e', 'dave', 'a1', 'fixed')]));
    expect(r.results).toEqual([
      { id: 'a1-x', outcome: 'rejected', reason: 'not_author' },
      { id: 'a1-y', outcome: 'rejected', reason: 'not_author' },
      { id: 'a1-e', outcome: 'applied' },
    ]);
    expect(await row('a1')).toMatchObject({ text: 'fixed', version: 2, edited: true, deleted: false });
    await write(envelope('auth', [del('a1-d', 'dave', 'a1')]));
    expect(await row('a1')).toMatchObject({ version: 3, deleted: true });
    expect(await rejections('a1-x')).toEqual(['not_author']);
  });

  it('holds an edit that arrives before its post and applies it when the post commits', async () => {
    const early = await write(envelope('race', [edit('h1-e', 'erin', 'h1', 'edited early')]));
    expect(early.results).toEqual([{ id: 'h1-e', outcome: 'held' }]);
    expect(await row('h1')).toBeUndefined();
    const late = await write(envelope('race', [post('h1', 'erin', 'first text')]));
    expect(late.released).toEqual([{ opId: 'h1-e', outcome: 'applied' }]);
    expect(await row('h1')).toMatchObject({ text: 'edited early', version: 2, edited: true });
  });

  it('never resurrects a message whose delete arrived before its post', async () => {
    await write(envelope('race', [del('h2-d', 'erin', 'h2')]));
    await write(envelope('race', [post('h2', 'erin', 'gone')]));
    expect(await row('h2')).toMatchObject({ deleted: true, version: 2 });
  });

  it('applies edits racing their posts in parallel invocations exactly once', async () => {
    const n = 20;
    await Promise.all(
      Array.from({ length: n }, (_, i) => [
        write(envelope('par', [edit(`par-${i}-e`, 'frank', `par-${i}`, `edited ${i}`)])),
        write(envelope('par', [post(`par-${i}`, 'frank', `text ${i}`)])),
      ]).flat(),
    );
    const rows = (await db.query("SELECT text, version FROM chat_messages WHERE room = 'par' ORDER BY id")).rows;
    expect(rows).toHaveLength(n);
    for (const r of rows) expect(r).toMatchObject({ version: 2, text: expect.stringMatching(/^edited /) });
  });

  it('keeps the text of the edit published last, whatever order edits arrive in', async () => {
    await write(envelope('lww', [post('w1', 'gina', 'v1', 1000)]));
    await write(envelope('lww', [edit('w1-b', 'gina', 'w1', 'published second', 3000)]));
    await write(envelope('lww', [edit('w1-a', 'gina', 'w1', 'published first', 2000)]));
    expect(await row('w1')).toMatchObject({ text: 'published second', version: 3 });
  });

  it('rejects bad input with a reason and keeps every valid message of the same batch', async () => {
    const long = 'x'.repeat(4001);
    const max = '😀'.repeat(4000); // 4000 characters, 8000 UTF-16 units
    const sql = "'); DROP TABLE chat_messages; --";
    const ev = envelope('bad', [
      post('b-ok1', 'hank', 'fine'),
      post('b-empty', 'hank', '   '),
      post('b-long', 'hank', long),
      post('b-max', 'hank', max),
      { id: 'b-json', clientId: 'hank', name: 'chat.post', data: '{not json' },
      { id: 'b-arr', clientId: 'hank', name: 'chat.post', data: [1, 2] },
      { id: 'b-name', clientId: 'hank', name: 'chat.shout', data: { text: 'hi' } },
      { id: 'b-anon', name: 'chat.post', data: { text: 'who am I' } },
      post('b-sql', 'hank', sql),
      post('b-nul', 'hank', 'a\u0000b'),
      { id: 'b-noid', clientId: 'hank', name: 'chat.edit', data: { text: 'no target' } },
      { id: 'b-num', clientId: 'hank', name: 'chat.post', data: { text: 42 } },
      { id: 'b-nulid\u0000', clientId: 'hank', name: 'chat.post', data: { text: 'nul in id' } },
      { id: 'b-nulname', clientId: 'hank', name: 'chat.\u0000', data: { text: 'nul in name' } },
      { id: 'b-nulclient', clientId: 'ha\u0000nk', name: 'chat.post', data: { text: 'nul in clientId' } },
      { id: 'b-nultarget', clientId: 'hank', name: 'chat.delete', data: { id: 'x\u0000' } },
      post('b-ok2', 'hank', 'also fine'),
    ]);
    const r = await write(ev);
    expect(Object.fromEntries(r.results.map((x) => [x.id, x.reason ?? x.outcome]))).toEqual({
      'b-ok1': 'applied',
      'b-empty': 'empty_text',
      'b-long': 'text_too_long',
      'b-max': 'applied',
      'b-json': 'malformed_data',
      'b-arr': 'malformed_data',
      'b-name': 'unknown_name',
      'b-anon': 'missing_client_id',
      'b-sql': 'applied',
      'b-nul': 'invalid_text',
      'b-noid': 'invalid_target',
      'b-num': 'malformed_data',
      'invalid-id:chat:bad:outgoing:12': 'malformed_message',
      'b-nulname': 'unknown_name',
      'b-nulclient': 'missing_client_id',
      'b-nultarget': 'invalid_target',
      'b-ok2': 'applied',
    });
    expect((await row('b-sql'))?.text).toBe(sql);
    expect((await row('b-max'))?.text).toBe(max);
    expect(await rejections('b-long')).toEqual(['text_too_long']);
    const counted = writer.stats().rejected;
    expect(counted.empty_text).toBeGreaterThanOrEqual(1);
    expect(counted.malformed_data).toBeGreaterThanOrEqual(3);
  });

  it('rejects every message on a channel that is not a valid room', async () => {
    const r = await write(envelope('x', [post('bad-room-1', 'ivy', 'hi')], 'chat:no spaces allowed:outgoing'));
    expect(r.results).toEqual([{ id: 'bad-room-1', outcome: 'rejected', reason: 'invalid_room' }]);
    expect(await rejections('bad-room-1')).toEqual(['invalid_room']);
  });

  it('accepts object data, JSON text without encoding, and base64-encoded JSON', async () => {
    const raw = envelope('enc', []);
    raw.messages = [
      { id: 'enc-obj', clientId: 'jo', name: 'chat.post', data: { text: 'object' }, timestamp: Date.now() },
      { id: 'enc-str', clientId: 'jo', name: 'chat.post', data: '{"text":"string"}', timestamp: Date.now() },
      { id: 'enc-b64', clientId: 'jo', name: 'chat.post', data: Buffer.from('{"text":"b64"}').toString('base64'), encoding: 'json/utf-8/base64', timestamp: Date.now() },
      { id: 'enc-x', clientId: 'jo', name: 'chat.post', data: 'zzz', encoding: 'cipher+aes-128-cbc/base64', timestamp: Date.now() },
    ];
    const r = await write(raw);
    expect(r.results.map((x) => x.reason ?? x.outcome)).toEqual(['applied', 'applied', 'applied', 'unsupported_encoding']);
    expect((await row('enc-b64'))?.text).toBe('b64');
  });

  it('turns an edit whose post never comes into an unknown_target rejection after the hold', async () => {
    const held = await write(envelope('ghost', [edit('g-e', 'kim', 'never-posted', 'boo')]), 'chat-writer-quick-hold');
    expect(held.results).toEqual([{ id: 'g-e', outcome: 'held' }]);
    await write(envelope('ghost', [post('g-other', 'kim', 'tick')]), 'chat-writer-quick-hold');
    expect(await rejections('g-e')).toEqual(['unknown_target']);
  });

  it('refuses edits of a post that was itself rejected', async () => {
    await write(envelope('rej', [edit('t-e1', 'lee', 't1', 'edit before')]));
    const before = writer.stats().rejected.target_rejected ?? 0;
    await write(envelope('rej', [post('t1', 'lee', '')]));
    expect(await rejections('t-e1')).toEqual(['target_rejected']);
    expect(writer.stats().rejected.target_rejected).toBe(before + 1);
    await write(envelope('rej', [edit('t-e2', 'lee', 't1', 'edit after')]));
    expect(await rejections('t-e2')).toEqual(['target_rejected']);
  });

  it('fails the invocation (so it is retried) when the database is unreachable', async () => {
    const r = await invoke(client, 'chat-writer-no-db', envelope('down', [post('d1', 'max', 'hi')]));
    expect(r.error).toBe('Unhandled');
    expect(await row('d1')).toBeUndefined();
  });

  it('records a malformed envelope without failing', async () => {
    const r = await write({ hello: 'world' });
    expect(r.results[0]).toMatchObject({ outcome: 'rejected', reason: 'malformed_envelope' });
  });
});
