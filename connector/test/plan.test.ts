import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseConnectorConfig, type Mapping } from '../src/config.ts';
import { planDrain, routeKey, type PlanOptions } from '../src/plan.ts';
import type { OutboxRow } from '../src/outbox.ts';

function routes(connector: Array<{ tablename: string; ablychannelname: string; operation: string }>): Map<string, Mapping[]> {
  const cfg = parseConnectorConfig({ connector, dbConfig: { host: 'h' }, ably: { apiKey: 'a.b:c' }, extensions: { channelTemplates: true } }, {});
  const m = new Map<string, Mapping[]>();
  for (const x of cfg.mappings) m.set(routeKey(x.tablename, x.operation), [...(m.get(routeKey(x.tablename, x.operation)) ?? []), x]);
  return m;
}

const CHAT = routes(['INSERT', 'UPDATE', 'DELETE'].map((operation) => ({ tablename: 'chat_messages', ablychannelname: 'chat:{room}:incoming', operation })));

function row(seq: number, commitSeq: number, room: string, operation = 'INSERT', extra: Record<string, unknown> = {}): OutboxRow {
  return { seq, tablename: 'chat_messages', operation, row: { id: `m${seq}`, room, ...extra }, commitSeq, committedMs: 1 };
}

const opts = (o: Partial<PlanOptions> = {}): PlanOptions => ({
  outboxId: 'ob1',
  routes: CHAT,
  messageName: 'operation',
  maxMessages: 1,
  maxMessageSize: 65536,
  truncated: false,
  ...o,
});

describe('planDrain', () => {
  it('makes one publish per row, named by operation, on the templated channel, with ids from the outbox position', () => {
    const p = planDrain([row(5, 1, 'lobby'), row(3, 2, 'den', 'UPDATE'), row(9, 3, 'lobby', 'DELETE')], opts());
    expect(p.publishes.map((x) => [x.channel, x.messages.map((m) => [m.id, m.name])])).toEqual([
      ['chat:lobby:incoming', [['ob1:5', 'INSERT']]],
      ['chat:den:incoming', [['ob1:3', 'UPDATE']]],
      ['chat:lobby:incoming', [['ob1:9', 'DELETE']]],
    ]);
    expect(p.publishes[0]!.messages[0]!.data).toEqual({ table: 'chat_messages', type: 'INSERT', row: { id: 'm5', room: 'lobby' }, position: [1, 5] });
  });

  it("uses the original's fixed name when asked", () => {
    const p = planDrain([row(1, 1, 'a')], opts({ messageName: 'original' }));
    expect(p.publishes[0]!.messages[0]!.name).toBe('New message from the Ably/ Postgres connector');
  });

  it('rejects a row over the size limit, naming it, and keeps the rest of the queue moving', () => {
    const p = planDrain([row(1, 1, 'a'), row(2, 2, 'a', 'INSERT', { text: 'x'.repeat(70_000) }), row(3, 3, 'a')], opts());
    expect(p.publishes.map((x) => x.seqs)).toEqual([[1], [3]]);
    expect(p.rejected).toHaveLength(1);
    expect(p.rejected[0]!.reason).toMatch(/chat_messages INSERT outbox seq 2 id="m2": message of \d+ bytes exceeds the realtime limit of 65536 bytes/);
  });

  it('rejects a row whose template column is null, and skips rows of unmapped tables', () => {
    const p = planDrain([{ ...row(1, 1, 'a'), row: { id: 'x', room: null } }, { ...row(2, 2, 'a'), tablename: 'other' }], opts());
    expect(p.rejected[0]!.reason).toMatch(/no channel for "chat:\{room\}:incoming": column room is null or missing/);
    expect(p.unmapped).toEqual([2]);
  });

  it('sends one row to every channel mapped for it, with distinct ids', () => {
    const r = routes([
      { tablename: 'users', ablychannelname: 'a', operation: 'INSERT' },
      { tablename: 'users', ablychannelname: 'b', operation: 'INSERT' },
    ]);
    const p = planDrain([{ ...row(4, 1, 'x'), tablename: 'users' }], opts({ routes: r }));
    expect(p.publishes.map((x) => [x.channel, x.messages[0]!.id])).toEqual([['a', 'ob1:4'], ['b', 'ob1:4.1']]);
    expect(p.pending.get(4)).toBe(2);
  });

  it('batches rows of one transaction on one channel, in order, with <base>:<index> ids', () => {
    const rows = [row(10, 1, 'a'), row(11, 1, 'b'), row(12, 1, 'a'), row(13, 1, 'a'), row(14, 2, 'a')];
    const p = planDrain(rows, opts({ maxMessages: 2 }));
    expect(p.publishes.map((x) => [x.channel, x.messages.map((m) => m.id)])).toEqual([
      ['chat:a:incoming', ['ob1:10']],
      ['chat:a:incoming', ['ob1:12-g:0', 'ob1:12-g:1']],
      ['chat:b:incoming', ['ob1:11']],
      ['chat:a:incoming', ['ob1:14']],
    ]);
  });

  it('holds back the possibly cut last block of a truncated read', () => {
    const rows = [row(10, 1, 'a'), row(11, 1, 'a'), row(12, 1, 'a')];
    const p = planDrain(rows, opts({ maxMessages: 2, truncated: true }));
    expect(p.publishes.map((x) => x.seqs)).toEqual([[10, 11]]);
    expect(p.deferred).toEqual([12]);
  });

  it('gives every row the same message id however reads are cut, acked or crashed', () => {
    const rowsArb = fc
      .array(fc.tuple(fc.integer({ min: 1, max: 6 }), fc.constantFrom('a', 'b', 'c')), { minLength: 1, maxLength: 60 })
      .map((spec) => {
        // Commit order is a permutation of insert order within bounds: seqs need not ascend.
        let commit = 0;
        // Later commits took lower positions; within a transaction positions ascend, as read.
        let seq = 1000;
        const out: OutboxRow[] = [];
        for (const [n, room] of spec) {
          commit++;
          seq -= n;
          for (let i = 0; i < n; i++) out.push(row(seq + i, commit, i % 2 ? room : 'a'));
        }
        return out;
      });
    fc.assert(
      fc.property(rowsArb, fc.integer({ min: 1, max: 4 }), fc.array(fc.tuple(fc.integer({ min: 1, max: 8 }), fc.boolean(), fc.boolean()), { minLength: 40, maxLength: 40 }), (all, maxMessages, steps) => {
        const table = [...all];
        const inflight = new Map<number, number[]>();
        const idOf = new Map<number, string>();
        const lastSent = new Map<string, number>();
        for (const [extra, ackSome, crash] of steps) {
          const limit = maxMessages + extra;
          const held = new Set([...inflight.values()].flat());
          const read = table.filter((r) => !held.has(r.seq)).slice(0, limit);
          const p = planDrain(read, opts({ maxMessages, truncated: read.length === limit }));
          p.publishes.forEach((pub, gi) => {
            pub.messages.forEach((m, i) => {
              const seq = pub.seqs[i]!;
              if (idOf.has(seq)) expect(m.id).toBe(idOf.get(seq));
              idOf.set(seq, m.id);
              const pos = table.findIndex((r) => r.seq === seq);
              // Per channel, nothing leaves before an earlier row of that channel that is still queued.
              for (const earlier of table.slice(0, pos)) {
                if (`chat:${earlier.row.room}:incoming` === pub.channel && !held.has(earlier.seq)) {
                  expect(p.publishes.slice(0, gi + 1).some((q) => q.seqs.includes(earlier.seq))).toBe(true);
                }
              }
              lastSent.set(pub.channel, pos);
            });
            inflight.set(inflight.size + held.size + gi + Math.random(), pub.seqs);
          });
          if (ackSome) {
            const [first] = inflight.keys();
            if (first !== undefined) {
              const done = new Set(inflight.get(first));
              inflight.delete(first);
              for (let i = table.length - 1; i >= 0; i--) if (done.has(table[i]!.seq)) table.splice(i, 1);
            }
          }
          if (crash) inflight.clear();
        }
      }),
      { numRuns: 150 },
    );
  });
});
