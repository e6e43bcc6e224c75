import { createHmac } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Ably from 'ably';
import { startTestService } from '../../harness/realtime/testing.ts';
import { freshDatabase } from '../../harness/testing/pg.ts';
import { retentionMsFromEnv } from './retention.ts';
import { startFunctionsServer, type StartedFunctionsServer } from './server.ts';
import { CHAT_CAPABILITY } from './token.ts';

const KEY_NAME = 'app.chatkey';
const KEY_SECRET = 'a-secret-for-tests';
let srv: StartedFunctionsServer;
let db: pg.Pool;

beforeAll(async () => {
  const url = await freshDatabase();
  db = new pg.Pool({ connectionString: url, max: 2 });
  srv = await startFunctionsServer({ databaseUrl: url, ablyKey: `${KEY_NAME}:${KEY_SECRET}`, realtimeClientOptions: { endpoint: '127.0.0.1', port: 1, tls: false } });
});

afterAll(async () => {
  await srv?.stop();
  await db?.end();
});

async function login(name: unknown): Promise<Response> {
  return fetch(srv.loginUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name }) });
}

function cookieOf(res: Response): string {
  return res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
}

describe('sign-in and the token endpoint over real HTTP', () => {
  it('binds a validated, normalised name to a signed HttpOnly session cookie', async () => {
    const res = await login('  Alice   Smith ');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ clientId: 'Alice Smith' });
    const [setCookie] = res.headers.getSetCookie();
    expect(setCookie).toMatch(/^chat_session=[^;]+; Path=\/; HttpOnly; SameSite=Lax; Max-Age=\d+$/);
  });

  it.each([
    ['', 'non-empty'],
    ['x'.repeat(33), 'at most 32'],
    ['<script>', 'letters'],
    ["bob'; --", 'letters'],
    [42, 'string'],
  ])('refuses the name %j', async (name, why) => {
    const res = await login(name);
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { field: string; message: string } };
    expect(body.error.field).toBe('name');
    expect(body.error.message).toContain(why);
  });

  it('answers 401 without a session, or with a forged one', async () => {
    expect((await fetch(srv.tokenUrl)).status).toBe(401);
    const good = cookieOf(await login('mallory'));
    const [name, value] = good.split('=') as [string, string];
    const [payload, mac] = value.split('.') as [string, string];
    const forgedPayload = Buffer.from(JSON.stringify({ sub: 'alice', exp: Date.now() + 1e6 })).toString('base64url');
    const forged = await fetch(srv.tokenUrl, { headers: { cookie: `${name}=${forgedPayload}.${mac}` } });
    expect(forged.status).toBe(401);
    const ok = await fetch(srv.tokenUrl, { headers: { cookie: `${name}=${payload}.${mac}` } });
    expect(ok.status).toBe(200);
  });

  it('issues a TokenRequest signed with the key, for the session clientId, with exactly the chat capability', async () => {
    const cookie = cookieOf(await login('bob'));
    const res = await fetch(srv.tokenUrl, { headers: { cookie } });
    expect(res.status).toBe(200);
    const tr = (await res.json()) as Record<string, string | number>;
    expect(tr.keyName).toBe(KEY_NAME);
    expect(tr.clientId).toBe('bob');
    expect(JSON.parse(String(tr.capability))).toEqual(CHAT_CAPABILITY);
    const signed = [tr.keyName, tr.ttl, tr.capability, tr.clientId, tr.timestamp, tr.nonce, ''].join('\n');
    expect(tr.mac).toBe(createHmac('sha256', KEY_SECRET).update(signed).digest('base64'));
  });

  it('ends the session server-side on logout: every copy of the cookie stops working', async () => {
    const cookie = cookieOf(await login('erin'));
    const copy = cookie;
    expect((await fetch(srv.tokenUrl, { headers: { cookie } })).status).toBe(200);
    const out = await fetch(`${srv.url}/api/logout`, { method: 'POST', headers: { cookie } });
    expect(await out.json()).toEqual({ ok: true, ended: true, tokensRevoked: false });
    expect(out.headers.getSetCookie()[0]).toMatch(/^chat_session=; .*Max-Age=0/);
    for (const url of [srv.tokenUrl, `${srv.url}/api/me`, `${srv.historyUrl}/lobby/messages`, `${srv.url}/api/rooms`, `${srv.url}/api/rejections?ids=x`]) {
      expect((await fetch(url, { headers: { cookie: copy } })).status, url).toBe(401);
    }
    const again = await fetch(`${srv.url}/api/logout`, { method: 'POST', headers: { cookie: copy } });
    expect(await again.json()).toEqual({ ok: true, ended: false, tokensRevoked: false });
    // Another session of the same name is untouched.
    expect((await fetch(srv.tokenUrl, { headers: { cookie: cookieOf(await login('erin')) } })).status).toBe(200);
  });

  it('issues tokens that live at most 15 minutes, the longest one can outlive a logout', async () => {
    const tr = (await (await fetch(srv.tokenUrl, { headers: { cookie: cookieOf(await login('fay')) } })).json()) as { ttl: number };
    expect(tr.ttl).toBeLessThanOrEqual(15 * 60 * 1000);
  });

  it('serves the realtime settings for the browser', async () => {
    const body = (await (await fetch(`${srv.url}/api/config`)).json()) as { realtime: Record<string, unknown> };
    expect(body.realtime).toEqual({ endpoint: '127.0.0.1', port: 1, tls: false });
  });
});

describe('logout against a realtime service', () => {
  it("revokes the user's tokens there: a connection holding one is disconnected with 40141 and cannot renew", async () => {
    const { svc } = await startTestService();
    const own = await startFunctionsServer({ databaseUrl: await freshDatabase(), ablyKey: svc.apiKey, realtimeClientOptions: svc.clientOptions() });
    const client = new Ably.Realtime({
      ...svc.clientOptions(),
      logLevel: 0,
      autoConnect: false,
      authCallback: (_params, done) => {
        fetch(own.tokenUrl, { headers: { cookie } })
          .then(async (r) => (r.ok ? done(null, (await r.json()) as Ably.TokenRequest) : done({ code: 40170, statusCode: r.status, message: `token endpoint ${r.status}` } as Ably.ErrorInfo, null)))
          .catch((e: Error) => done({ code: 40170, statusCode: 500, message: e.message } as Ably.ErrorInfo, null));
      },
    });
    let cookie = '';
    try {
      cookie = cookieOf(await fetch(own.loginUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'gus' }) }));
      client.connect();
      await client.connection.whenState('connected');
      const dropped = client.connection.whenState('disconnected');
      const out = await fetch(`${own.url}/api/logout`, { method: 'POST', headers: { cookie } });
      expect(await out.json()).toEqual({ ok: true, ended: true, tokensRevoked: true });
      expect((await dropped)?.reason?.code).toBe(40141);
      // The session is gone, so the renewal the SDK attempts is refused and it stays off.
      const next = await new Promise<Ably.ConnectionStateChange>((resolve) => client.connection.once((c) => c.current !== 'connecting' && resolve(c)));
      expect(next.current).not.toBe('connected');
    } finally {
      client.close();
      await own.stop();
      await svc.stop();
    }
  });
});

describe('history over real HTTP', () => {
  let cookie = '';
  const get = (url: string | URL) => fetch(url, { headers: { cookie } });
  beforeAll(async () => {
    cookie = cookieOf(await login('reader'));
    // 120 rows; every 10th deleted; pairs share created_at so the cursor must break ties by id.
    for (let i = 0; i < 120; i++) {
      await db.query(
        `INSERT INTO chat_messages (id, room, author, username, text, deleted, created_at)
         VALUES ($1, 'hist', 'amy', 'amy', $2, $3, '2024-01-01T00:00:00Z'::timestamptz + ($4 || ' microseconds')::interval)`,
        [`m${String(i).padStart(3, '0')}`, `text ${i}`, i % 10 === 0, Math.floor(i / 2)],
      );
    }
    await db.query(`INSERT INTO chat_messages (id, room, author, username, text) VALUES ('other', 'elsewhere', 'amy', 'amy', 'x')`);
  });

  it('pages newest first without gaps or overlaps, excluding deleted rows', async () => {
    const seen: string[] = [];
    let before: string | null = null;
    let pages = 0;
    do {
      const u = new URL(`${srv.historyUrl}/hist/messages`);
      u.searchParams.set('limit', '25');
      if (before) u.searchParams.set('before', before);
      const res = await get(u);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { messages: Array<{ id: string; deleted: boolean; author: string; version: number }>; next: string | null };
      for (const m of body.messages) {
        expect(m.deleted).toBe(false);
        expect(m).toMatchObject({ author: 'amy', version: 1 });
        seen.push(m.id);
      }
      before = body.next;
      pages++;
    } while (before && pages < 20);
    const expected = Array.from({ length: 120 }, (_, i) => i)
      .filter((i) => i % 10 !== 0)
      .reverse()
      .map((i) => `m${String(i).padStart(3, '0')}`);
    expect(seen).toEqual(expected);
    expect(pages).toBe(5); // 108 rows, 25 a page
  });

  it('returns the row fields', async () => {
    const body = (await (await get(`${srv.historyUrl}/hist/messages?limit=1`)).json()) as { messages: Array<Record<string, unknown>> };
    expect(Object.keys(body.messages[0]!).sort()).toEqual(['author', 'client_seq', 'created_at', 'deleted', 'edited', 'id', 'room', 'sent_at', 'text', 'updated_at', 'username', 'version']);
  });

  it.each([
    ['/bad%20room/messages', 'room'],
    ['/hist/messages?limit=0', 'limit'],
    ['/hist/messages?limit=101', 'limit'],
    ['/hist/messages?limit=abc', 'limit'],
    ['/hist/messages?before=!!!', 'before'],
  ])('refuses %s naming the field', async (path, field) => {
    const res = await get(`${srv.historyUrl}${path}`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { field: string } }).error.field).toBe(field);
  });

  it('answers history and the room list only to a signed-in user', async () => {
    for (const url of [`${srv.historyUrl}/hist/messages`, `${srv.url}/api/rooms`]) {
      const res = await fetch(url);
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { field: string } }).error.field).toBe('cookie');
    }
  });

  it('answers an unknown path with 404', async () => {
    expect((await fetch(`${srv.url}/api/nothing`)).status).toBe(404);
  });
});

describe('the author\'s refusals over real HTTP', () => {
  it('tells a user the reasons for their own refused writes, and nobody else\'s', async () => {
    await db.query(
      `INSERT INTO chat_write_rejections (message_id, room, author, name, reason) VALUES
         ('r-carol-1', 'lobby', 'carol', 'chat.post', 'invalid_text'),
         ('r-dave-1', 'lobby', 'dave', 'chat.post', 'text_too_long')`,
    );
    const carol = cookieOf(await login('carol'));
    const url = `${srv.url}/api/rejections?ids=r-carol-1,r-dave-1,r-unknown`;
    const res = await fetch(url, { headers: { cookie: carol } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ rejections: [{ id: 'r-carol-1', reason: 'invalid_text' }] });
    expect((await fetch(url)).status).toBe(401);
    const rooms = (await (await fetch(`${srv.url}/api/rooms`, { headers: { cookie: carol } })).json()) as { rooms: Array<{ room: string; messages: number }> };
    expect(rooms.rooms.map((r) => r.room)).toContain('hist');
    const bad = await fetch(`${srv.url}/api/rejections?ids=`, { headers: { cookie: carol } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { field: string } }).error.field).toBe('ids');
  });
});

describe('retention', () => {
  it('purges old refusals, rejected and held ops and expired sessions on start and then periodically; applied ops stay', async () => {
    const url = await freshDatabase();
    const own = new pg.Pool({ connectionString: url, max: 1 });
    const old = `clock_timestamp() - interval '2 days'`;
    const op = (id: string, state: string, at: string) =>
      own.query(
        `INSERT INTO chat_ops (op_id, message_id, room, author, kind, op_ts, state, received_at, settled_at)
         VALUES ($1, 'p', 'r', 'a', 'edit', 1, $2, ${at}, CASE WHEN $2 = 'held' THEN NULL ELSE ${at} END)`,
        [id, state],
      );
    const rejection = (id: string, at: string) => own.query(`INSERT INTO chat_write_rejections (message_id, reason, at) VALUES ($1, 'invalid_text', ${at})`, [id]);
    await Promise.all([op('old-rejected', 'rejected', old), op('old-held', 'held', old), op('old-applied', 'applied', old), op('new-rejected', 'rejected', 'clock_timestamp()')]);
    await Promise.all([rejection('old', old), rejection('new', 'clock_timestamp()')]);
    await own.query(`INSERT INTO chat_sessions (id_hash, client_id, expires_at) VALUES ('\\x01', 'gone', ${old}), ('\\x02', 'live', clock_timestamp() + interval '1 hour')`);

    const purges: Array<{ rejections: number; ops: number; sessions: number }> = [];
    let onPurge: () => void = () => {};
    const fns = await startFunctionsServer({
      databaseUrl: url,
      ablyKey: `${KEY_NAME}:${KEY_SECRET}`,
      retentionMs: 24 * 3600 * 1000,
      retentionIntervalMs: 50,
      onPurged: (p) => (purges.push(p), onPurge()),
    });
    try {
      // The purge on start has finished when the server is up.
      expect(purges[0]).toEqual({ rejections: 1, ops: 2, sessions: 1 });
      const ids = async (sql: string) => (await own.query<{ id: string }>(sql)).rows.map((r) => r.id).sort();
      expect(await ids('SELECT op_id AS id FROM chat_ops')).toEqual(['new-rejected', 'old-applied']);
      expect(await ids('SELECT message_id AS id FROM chat_write_rejections')).toEqual(['new']);
      expect(await ids('SELECT client_id AS id FROM chat_sessions')).toEqual(['live']);

      await rejection('later', old);
      await new Promise<void>((r) => (onPurge = () => purges.some((p) => p.rejections > 0 && p !== purges[0]) && r()));
      expect(await ids('SELECT message_id AS id FROM chat_write_rejections')).toEqual(['new']);
    } finally {
      await fns.stop();
      await own.end();
    }
  });

  it('with a tiny retention, purges fresh refusals and rejected ops within a few intervals', async () => {
    const url = await freshDatabase();
    const own = new pg.Pool({ connectionString: url, max: 1 });
    const totals = { rejections: 0, ops: 0 };
    let onPurge: () => void = () => {};
    const fns = await startFunctionsServer({
      databaseUrl: url,
      ablyKey: `${KEY_NAME}:${KEY_SECRET}`,
      retentionMs: 100,
      onPurged: (p) => {
        totals.rejections += p.rejections;
        totals.ops += p.ops;
        onPurge();
      },
    });
    try {
      const done = new Promise<void>((r) => (onPurge = () => totals.rejections === 1 && totals.ops === 1 && r()));
      await own.query(`INSERT INTO chat_write_rejections (message_id, reason) VALUES ('r1', 'invalid_text')`);
      await own.query(
        `INSERT INTO chat_ops (op_id, message_id, room, author, kind, op_ts, state, settled_at) VALUES
           ('e1', 'p', 'r', 'a', 'edit', 1, 'rejected', clock_timestamp()), ('e2', 'p', 'r', 'a', 'edit', 2, 'applied', clock_timestamp())`,
      );
      await done;
      expect((await own.query('SELECT op_id FROM chat_ops')).rows).toEqual([{ op_id: 'e2' }]);
      expect((await own.query('SELECT count(*)::int AS n FROM chat_write_rejections')).rows[0]).toEqual({ n: 0 });
    } finally {
      await fns.stop();
      await own.end();
    }
  });

  it('refuses a malformed CHAT_RETENTION_MS, naming it', async () => {
    expect(() => retentionMsFromEnv({ CHAT_RETENTION_MS: '1d' })).toThrow(/CHAT_RETENTION_MS="1d"/);
    expect(retentionMsFromEnv({})).toBe(24 * 3600 * 1000);
    expect(retentionMsFromEnv({ CHAT_RETENTION_MS: '500' })).toBe(500);
  });
});
