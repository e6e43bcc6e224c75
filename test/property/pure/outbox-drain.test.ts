/**
 * The outbox drain, on a real Postgres with the connector's own triggers: for any interleaving of
 * writing transactions (a lower outbox position may commit last, a transaction may roll back)
 * with drain reads (planDrain's grouping, truncated reads, rows kept in hand before their ack),
 * each channel receives exactly the committed rows, in commit order, each once, with ids unique.
 */
import fc from 'fast-check';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Mapping } from '../../../connector/src/config.ts';
import { OutboxQueries } from '../../../connector/src/outbox.ts';
import { planDrain, routeKey } from '../../../connector/src/plan.ts';
import { setupDatabase, type SetupResult } from '../../../connector/src/setup.ts';
import { connect, testConfig } from '../../../connector/testing/db.ts';
import { freshDatabase } from '../../../harness/testing/pg.ts';

const WRITERS = 4;
const ROOMS = ['r0', 'r1', 'r2'];

type Step =
  | { kind: 'insert'; tx: number; room: number; rows: 1 | 2 }
  | { kind: 'update'; tx: number; pick: number }
  | { kind: 'commit'; tx: number }
  | { kind: 'rollback'; tx: number }
  | { kind: 'drain'; limitOver: number; maxMessages: number; ack: boolean }
  | { kind: 'ack' };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('insert' as const), tx: fc.nat(WRITERS - 1), room: fc.nat(ROOMS.length - 1), rows: fc.constantFrom<1 | 2>(1, 2) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('update' as const), tx: fc.nat(WRITERS - 1), pick: fc.nat(9) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('commit' as const), tx: fc.nat(WRITERS - 1) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('rollback' as const), tx: fc.nat(WRITERS - 1) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('drain' as const), limitOver: fc.integer({ min: 1, max: 5 }), maxMessages: fc.constantFrom(1, 1, 2, 3), ack: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'ack' as const }) },
);

interface Change {
  id: number;
  op: 'INSERT' | 'UPDATE';
  v: number;
  room: string;
}
interface Published extends Change {
  channel: string;
  messageId: string;
}

let url: string;
let drain: pg.Client;
let writers: pg.Client[];
let setup: SetupResult;
let q: OutboxQueries;
let routes: Map<string, Mapping[]>;
let nextId = 1;

beforeAll(async () => {
  url = await freshDatabase({ migrate: false });
  drain = await connect(url);
  await drain.query('CREATE TABLE items (id int PRIMARY KEY, room text NOT NULL, v int NOT NULL)');
  const cfg = testConfig(
    url,
    (['INSERT', 'UPDATE'] as const).map((operation) => ({ tablename: 'items', ablychannelname: 'items:{room}', operation })),
    { channelTemplates: true },
  );
  setup = await setupDatabase(drain, cfg);
  q = new OutboxQueries(setup.names);
  routes = new Map();
  for (const m of cfg.mappings) routes.set(routeKey('items', m.operation), [...(routes.get(routeKey('items', m.operation)) ?? []), m]);
  writers = await Promise.all(Array.from({ length: WRITERS }, () => connect(url)));
});

afterAll(async () => {
  await Promise.all([drain, ...(writers ?? [])].map((c) => c?.end()));
});

async function run(steps: readonly Step[]): Promise<void> {
  const open = new Map<number, Change[]>();
  const committed: Change[] = [];
  const published: Published[] = [];
  const inHand = new Set<number>();
  const batchedReads: boolean[] = [];

  const write = async (tx: number, sql: string, params: unknown[], changes: Change[]) => {
    if (!open.has(tx)) {
      await writers[tx]!.query('BEGIN');
      open.set(tx, []);
    }
    await writers[tx]!.query(sql, params);
    open.get(tx)!.push(...changes);
  };
  const finish = async (tx: number, how: 'COMMIT' | 'ROLLBACK') => {
    const changes = open.get(tx);
    if (!changes) return;
    await writers[tx]!.query(how);
    open.delete(tx);
    if (how === 'COMMIT') committed.push(...changes);
  };
  const read = async (limit: number, maxMessages: number) => {
    const rows = await q.fetch(drain, [...inHand], limit);
    const plan = planDrain(rows, { outboxId: setup.outboxId, routes, messageName: 'operation', maxMessages, maxMessageSize: 65536, truncated: rows.length === limit });
    expect(plan.rejected).toEqual([]);
    expect(plan.unmapped).toEqual([]);
    batchedReads.push(maxMessages > 1);
    for (const p of plan.publishes) {
      for (const m of p.messages) {
        const row = m.data.row as { id: number; room: string; v: number };
        published.push({ id: row.id, op: m.name as Change['op'], v: row.v, room: row.room, channel: p.channel, messageId: m.id });
      }
      for (const s of p.seqs) inHand.add(s);
    }
    return rows.length;
  };
  const ackAll = async () => {
    await q.ack(drain, [...inHand]);
    inHand.clear();
  };

  try {
    for (const s of steps) {
      switch (s.kind) {
        case 'insert': {
          const room = ROOMS[s.room]!;
          const ids = Array.from({ length: s.rows }, () => nextId++);
          await write(s.tx, `INSERT INTO items SELECT id, $2, 1 FROM unnest($1::int[]) WITH ORDINALITY AS u(id, n) ORDER BY n`, [ids, room], ids.map((id) => ({ id, op: 'INSERT' as const, v: 1, room })));
          break;
        }
        case 'update': {
          // Only a transaction's own rows: rows of other open transactions would block on their lock.
          const mine = (open.get(s.tx) ?? []).filter((c) => c.op === 'INSERT');
          const target = mine[s.pick % Math.max(mine.length, 1)];
          if (!target) break;
          const v = Math.max(...open.get(s.tx)!.filter((c) => c.id === target.id).map((c) => c.v)) + 1;
          await write(s.tx, 'UPDATE items SET v = $2 WHERE id = $1', [target.id, v], [{ id: target.id, op: 'UPDATE', v, room: target.room }]);
          break;
        }
        case 'commit': await finish(s.tx, 'COMMIT'); break;
        case 'rollback': await finish(s.tx, 'ROLLBACK'); break;
        case 'drain':
          await read(s.maxMessages + s.limitOver, s.maxMessages);
          if (s.ack) await ackAll();
          break;
        case 'ack': await ackAll(); break;
      }
    }
    for (const tx of [...open.keys()]) await finish(tx, 'COMMIT');
    // Drain to the end: bounded, since every read either takes rows or finds none left.
    for (let i = 0; i < 1000; i++) {
      const n = await read(4, 1);
      await ackAll();
      if (n === 0) break;
    }
    expect(await q.backlog(drain)).toBe(0);
  } finally {
    for (const tx of [...open.keys()]) await writers[tx]!.query('ROLLBACK').catch(() => {});
  }

  const label = (c: Change) => `${c.room} ${c.op} #${c.id} v${c.v}`;
  for (const room of ROOMS) {
    const want = committed.filter((c) => c.room === room).map(label);
    const got = published.filter((p) => p.channel === `items:${room}`).map(label);
    expect(got, `channel items:${room}`).toEqual(want);
  }
  expect(published.filter((p) => !p.channel.startsWith('items:r'))).toEqual([]);
  // Without batching, one channel or many, publishes leave in commit order overall.
  if (!batchedReads.some(Boolean)) expect(published.map(label)).toEqual(committed.map(label));
  expect(new Set(published.map((p) => p.messageId)).size).toBe(published.length);
}

describe('outbox drain (property, real Postgres)', () => {
  it('publishes every committed change once, per channel in commit order, whatever the interleaving', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 30 }), (steps) => run(steps)),
      { numRuns: 80 },
    );
  }, 120_000);

  it('the case the design names: a lower position committing last is published after, not skipped', async () => {
    await run([
      { kind: 'insert', tx: 0, room: 0, rows: 1 },
      { kind: 'insert', tx: 1, room: 0, rows: 1 },
      { kind: 'commit', tx: 1 },
      { kind: 'drain', limitOver: 1, maxMessages: 1, ack: true },
      { kind: 'commit', tx: 0 },
      { kind: 'drain', limitOver: 1, maxMessages: 1, ack: true },
    ]);
  });
});
