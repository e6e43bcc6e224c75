import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { freshDatabase } from '../../harness/testing/pg.ts';
import { setupDatabase } from '../src/setup.ts';
import { OutboxQueries } from '../src/outbox.ts';
import { USERS_MAPPINGS, connect, testConfig } from '../testing/db.ts';

let url: string;
let drain: pg.Client;
let q: OutboxQueries;

beforeAll(async () => {
  url = await freshDatabase({ migrate: false });
  drain = await connect(url);
  await drain.query('CREATE TABLE users (id integer, name text)');
  q = new OutboxQueries((await setupDatabase(drain, testConfig(url, USERS_MAPPINGS))).names);
});
afterAll(async () => {
  await drain.end();
});

async function ids(): Promise<number[]> {
  return (await q.fetch(drain, [], 100)).map((r) => r.row.id as number);
}

async function ackAll(): Promise<void> {
  await q.ack(drain, (await q.fetch(drain, [], 1000)).map((r) => r.seq));
}

describe('outbox drain order', () => {
  it('does not skip a lower-numbered row whose transaction commits later', async () => {
    const [t1, t2] = [await connect(url), await connect(url)];
    try {
      await t1.query('BEGIN');
      await t1.query(`INSERT INTO users VALUES (1, 'first number, commits last')`);
      await t2.query(`INSERT INTO users VALUES (2, 'second number, commits first')`);
      // T1 sees its own row and T2's: its row holds the lower number.
      const seen = await t1.query(`SELECT (row_data->>'id')::int AS id FROM ably_outbox ORDER BY seq`);
      expect(seen.rows.map((r) => r.id)).toEqual([1, 2]);
      expect(await ids()).toEqual([2]);
      await q.ack(drain, (await q.fetch(drain, [], 10)).map((r) => r.seq));
      await t1.query('COMMIT');
      expect(await ids()).toEqual([1]);
      await ackAll();
    } finally {
      await t1.end();
      await t2.end();
    }
  });

  it('orders by commit, not by number, when both commit before the drain reads', async () => {
    const [t1, t2] = [await connect(url), await connect(url)];
    try {
      await t1.query('BEGIN');
      await t1.query(`INSERT INTO users VALUES (10, 'a')`);
      await t1.query(`INSERT INTO users VALUES (11, 'a')`);
      await t2.query('BEGIN');
      await t2.query(`INSERT INTO users VALUES (20, 'b')`);
      await t2.query('COMMIT');
      await t1.query(`UPDATE users SET name = 'a2' WHERE id = 10`);
      await t1.query('COMMIT');
      const rows = await q.fetch(drain, [], 100);
      expect(rows.map((r) => [r.row.id, r.operation])).toEqual([[20, 'INSERT'], [10, 'INSERT'], [11, 'INSERT'], [10, 'UPDATE']]);
      expect(rows[0]!.seq).toBeGreaterThan(rows[1]!.seq);
      await ackAll();
    } finally {
      await t1.end();
      await t2.end();
    }
  });

  it('leaves out rows in hand, and ack removes rows and their commit records', async () => {
    await drain.query(`INSERT INTO users VALUES (30, 'x'), (31, 'y')`);
    await drain.query(`DELETE FROM users WHERE id = 30`);
    const all = await q.fetch(drain, [], 100);
    expect(all.map((r) => [r.row.id, r.operation])).toEqual([[30, 'INSERT'], [31, 'INSERT'], [30, 'DELETE']]);
    expect(all[2]!.row).toEqual({ id: 30, name: 'x' }); // DELETE carries the old row
    expect((await q.fetch(drain, [all[0]!.seq], 100)).map((r) => r.seq)).toEqual([all[1]!.seq, all[2]!.seq]);
    await q.ack(drain, [all[0]!.seq]);
    expect(await q.backlog(drain)).toBe(2);
    const commits = await drain.query('SELECT count(*)::int AS n FROM ably_outbox_commit');
    expect(commits.rows[0].n).toBe(2); // the INSERT transaction still has row 31
    await q.ack(drain, [all[1]!.seq, all[2]!.seq]);
    expect(await q.backlog(drain)).toBe(0);
    expect((await drain.query('SELECT count(*)::int AS n FROM ably_outbox_commit')).rows[0].n).toBe(0);
  });

  it('dead-letters a row with its reason', async () => {
    await drain.query(`INSERT INTO users VALUES (40, 'bad')`);
    const [row] = await q.fetch(drain, [], 10);
    await q.deadLetter(drain, row!.seq, 'too big');
    expect(await q.backlog(drain)).toBe(0);
    const dead = await drain.query('SELECT seq, error, row_data FROM ably_outbox_dead');
    expect(dead.rows).toEqual([{ seq: String(row!.seq), error: 'too big', row_data: { id: 40, name: 'bad' } }]);
    expect((await drain.query('SELECT count(*)::int AS n FROM ably_outbox_commit')).rows[0].n).toBe(0);
  });
});

describe('commit positions in notifications', () => {
  it('each notification carries its commit number, in the order the notifications arrive, however many writers commit at once', async () => {
    const own = await freshDatabase({ migrate: false });
    const listener = await connect(own);
    const writers = await Promise.all(Array.from({ length: 6 }, () => connect(own)));
    try {
      await listener.query('CREATE TABLE users (id integer, name text)');
      const names = (await setupDatabase(listener, testConfig(own, USERS_MAPPINGS))).names;
      const got: Array<{ q: number; c?: number; r?: { id: number } }> = [];
      listener.on('notification', (n) => got.push(JSON.parse(n.payload ?? '{}') as (typeof got)[number]));
      await listener.query(`LISTEN "${names.wakeChannel}"`);
      const perWriter = 40;
      await Promise.all(
        writers.map(async (w, k) => {
          for (let i = 0; i < perWriter; i++) await w.query('INSERT INTO users VALUES ($1, $2)', [k * 1000 + i, 'x']);
        }),
      );
      // One two-row transaction too: both rows share its number, in insertion order.
      await writers[0]!.query('BEGIN');
      await writers[0]!.query(`INSERT INTO users VALUES (-1, 'a'), (-2, 'b')`);
      await writers[0]!.query('COMMIT');
      const total = writers.length * perWriter + 2;
      const deadline = Date.now() + 10_000;
      while (got.length < total && Date.now() < deadline) await new Promise((r) => listener.once('notification', r));
      expect(got).toHaveLength(total);
      const cs = got.map((n) => n.c);
      expect(cs.every((c) => typeof c === 'number')).toBe(true);
      for (let i = 1; i < cs.length; i++) expect(cs[i]!, `notification ${i}`).toBeGreaterThanOrEqual(cs[i - 1]!);
      expect(got.slice(-2).map((n) => [n.r?.id, n.c])).toEqual([[-1, cs.at(-1)], [-2, cs.at(-1)]]);
      // The read path gives every row the same number its notification carried.
      const read = new Map((await new OutboxQueries(names).fetch(listener, [], 1000)).map((r) => [r.seq, r.commitSeq]));
      for (const n of got) expect(read.get(n.q)).toBe(n.c);
    } finally {
      await Promise.all([listener, ...writers].map((c) => c.end()));
    }
  });
});
