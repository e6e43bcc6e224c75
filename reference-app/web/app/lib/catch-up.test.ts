/** readBack against the real history endpoint (functions server on a fresh database). */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import pg from 'pg';
import { freshDatabase } from '../../../../harness/testing/pg.ts';
import { startFunctionsServer, type StartedFunctionsServer } from '../../../functions/server.ts';
import { fetchHistory } from './api.ts';
import { CATCH_UP_MAX_PAGES, CATCH_UP_PAGE, readBack } from './catch-up.ts';

let server: StartedFunctionsServer;
let db: pg.Client;
const T0 = Date.parse('2024-05-01T00:00:00Z');
const at = (i: number) => new Date(T0 + i * 1000).toISOString();

/** Rows r-0 .. r-(n-1) in `room`, one second apart; every 7th deleted. */
async function seed(room: string, n: number): Promise<void> {
  await db.query(
    `INSERT INTO chat_messages (id, room, author, username, text, deleted, created_at, updated_at)
     SELECT $1 || '-' || i, $1, 'alice', 'alice', 'm' || i, i % 7 = 0,
            $2::timestamptz + i * interval '1 second', $2::timestamptz + i * interval '1 second'
     FROM generate_series(0, $3 - 1) AS i`,
    [room, at(0), n],
  );
}

beforeAll(async () => {
  const databaseUrl = await freshDatabase();
  db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  server = await startFunctionsServer({ databaseUrl, ablyKey: 'app.key:secret-secret-secret' });
  // History needs a session; a browser sends its cookie with every same-origin fetch, Node's fetch does not.
  const signedIn = await fetch(server.loginUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'reader' }) });
  const cookie = signedIn.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const realFetch = globalThis.fetch;
  vi.stubGlobal('fetch', (input: string | URL | Request, init: RequestInit = {}) => realFetch(input, { ...init, headers: { ...(init.headers as Record<string, string> | undefined), cookie } }));
});

afterAll(async () => {
  vi.unstubAllGlobals();
  await server?.stop();
  await db?.end();
});

const viaServer = (room: string, opts: { before: string | null; limit: number }) => fetchHistory(room, { ...opts, origin: server.url });
const live = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => from + k).filter((i) => i % 7 !== 0);

describe('catch-up read-back', () => {
  it('reads back past the oldest message shown, and says from when its read is complete', async () => {
    await seed('a', 350);
    const { rows, coveredFrom } = await readBack('a', at(180), viaServer);
    // Two pages of 100 live rows, newest first, reach past message 180 and the read stops.
    expect(rows.length).toBe(2 * CATCH_UP_PAGE);
    expect(coveredFrom).toBe(rows[rows.length - 1]!.created_at);
    const from = Date.parse(coveredFrom!);
    expect(from).toBeLessThan(Date.parse(at(180)));
    const expected = live(0, 350).filter((i) => Date.parse(at(i)) >= from);
    expect(rows.map((r) => r.id).sort()).toEqual(expected.map((i) => `a-${i}`).sort());
  });

  it('covers the whole room when the read reaches its first message', async () => {
    await seed('b', 120);
    const { rows, coveredFrom } = await readBack('b', at(1), viaServer);
    expect(coveredFrom).toBeNull();
    expect(rows.length).toBe(live(0, 120).length);
  });

  it('reads only the newest page when the view shows nothing', async () => {
    const { rows, coveredFrom } = await readBack('a', null, viaServer);
    expect(rows.length).toBe(CATCH_UP_PAGE);
    expect(coveredFrom).toBe(rows[rows.length - 1]!.created_at);
  });

  it('stops after its page budget however far back the view goes', async () => {
    const n = CATCH_UP_PAGE * CATCH_UP_MAX_PAGES + 300;
    await seed('c', n);
    const { rows, coveredFrom } = await readBack('c', at(0), viaServer);
    expect(rows.length).toBe(CATCH_UP_PAGE * CATCH_UP_MAX_PAGES);
    expect(coveredFrom).not.toBeNull();
  });
});
