/**
 * The checkers themselves. For any history the simulator makes correct, every checker says
 * valid; with one planted anomaly, the checker responsible for it says invalid:
 * a dropped receipt (delivery), a swapped pair of receipts (common-order), an older version
 * applied after a newer one (version-order), a view left at an older version (convergence).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runCheckers, type CheckerName } from '../../../harness/checks/index.ts';
import { cloneRun, simulate, type SimClient, type SimOp, type SimRun, type SimSpec } from '../../../harness/history/simulate.ts';
import type { HistoryEvent, ReceiveEvent, ViewEvent } from '../../../harness/history/types.ts';

const ROOMS = ['lobby', 'den'];
const ATTACH_GRACE_MS = 5;
const DETACH_GRACE_MS = 1000;

const clientArb = fc.record({ room: fc.nat(1), joinT: fc.option(fc.nat(150), { nil: undefined }), stayMs: fc.option(fc.integer({ min: 1, max: 2500 }), { nil: undefined }) });
const opArb = fc.record({
  gap: fc.integer({ min: 1, max: 30 }),
  kind: fc.constantFrom('post', 'post', 'edit', 'edit', 'delete'),
  who: fc.nat(7),
  target: fc.nat(7),
  fail: fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  commitDelay: fc.option(fc.nat(40), { nil: undefined }),
});

/** Clients 0 and 1 stay to the end (one per room), so each room has a view to judge. */
const specArb: fc.Arbitrary<SimSpec> = fc
  .record({ extra: fc.array(clientArb, { maxLength: 4 }), ops: fc.array(opArb, { minLength: 1, maxLength: 12 }) })
  .map(({ extra, ops }) => {
    const clients: SimClient[] = [
      { id: 'c0', room: ROOMS[0]! },
      { id: 'c1', room: ROOMS[1]! },
      ...extra.map((c, i): SimClient => {
        const joinT = c.joinT ?? 0;
        return { id: `c${i + 2}`, room: ROOMS[c.room]!, ...(c.joinT !== undefined ? { joinT } : {}), ...(c.stayMs !== undefined ? { leaveT: joinT + c.stayMs } : {}) };
      }),
    ];
    let t = 0;
    const posts: string[] = [];
    const simOps: SimOp[] = ops.map((o, i) => {
      t += o.gap;
      const client = clients[o.who % clients.length]!.id;
      const id = `op${i}`;
      const kind = posts.length === 0 ? 'post' : o.kind;
      const op: SimOp = { t, op: kind as SimOp['op'], client, id };
      if (kind === 'post') posts.push(id);
      else op.target = posts[o.target % posts.length]!;
      if (o.fail) op.fail = 'nack 50000';
      if (o.commitDelay !== undefined) op.commitDelay = o.commitDelay;
      return op;
    });
    return { clients, ops: simOps };
  });

const verdicts = (run: SimRun) => Object.fromEntries(runCheckers(run.history, run.final).map((c) => [c.name, c.valid])) as Record<CheckerName, unknown>;

const receives = (h: readonly HistoryEvent[]) => h.filter((e): e is ReceiveEvent => e.type === 'receive');
const sortByT = (run: SimRun) => {
  const [start, ...rest] = run.history;
  run.history = [start!, ...rest.sort((a, b) => a.t - b.t)];
  return run;
};

/**
 * Is `r` owed to its client by the delivery rule (attached with grace from the commit until the
 * change was published)?
 */
function owed(spec: SimSpec, r: ReceiveEvent): boolean {
  const c = spec.clients.find((x) => x.id === r.client)!;
  const at = r.commitT!;
  const published = Math.max(at, r.publishT ?? at);
  return (c.joinT ?? 0) + ATTACH_GRACE_MS <= at && (c.leaveT === undefined || published <= c.leaveT - DETACH_GRACE_MS);
}

/**
 * A post, then edits published in order 1..k that the chat-writer applies in `order`: each bumps
 * the version, but the text changes only when the edit was published after every one applied so
 * far (the writer's last-published-wins rule). One subscriber sees every version.
 */
function overtakenEdits(order: readonly number[]): SimRun {
  const h: HistoryEvent[] = [{ type: 'run-start', t: 0, scenario: 'overtaken-edits', seed: 1, epochMs: 1_700_000_000_000, options: {} }];
  h.push({ type: 'subscribe', t: 0, client: 'b', room: 'lobby' });
  let t = 10;
  const write = (opId: string, op: 'post' | 'edit', text: string) => {
    h.push({ type: 'invoke', t: t++, opId, op, client: 'a', room: 'lobby', messageId: 'm1', text });
    h.push({ type: 'ack', t: t++, opId });
  };
  write('m1', 'post', 'hello');
  order.forEach((_, i) => write(`e${i + 1}`, 'edit', `edit ${i + 1}`));
  let version = 1;
  let text = 'hello';
  let newest = 0;
  const receive = (name: 'INSERT' | 'UPDATE', at: number) =>
    h.push({ type: 'receive', t: at + 2, client: 'b', room: 'lobby', eventId: `ev${version}`, name, messageId: 'm1', version, deleted: false, text, author: 'a', commitT: at, publishT: at + 1, applied: true });
  receive('INSERT', t++);
  for (const k of order) {
    version++;
    if (k > newest) [newest, text] = [k, `edit ${k}`];
    receive('UPDATE', (t += 5));
  }
  h.push({ type: 'view', t: t + 50, client: 'b', room: 'lobby', rows: [{ id: 'm1', text, version, deleted: false, author: 'a' }] });
  h.push({ type: 'run-end', t: t + 60 });
  return { history: h, final: { rows: [{ id: 'm1', room: 'lobby', author: 'a', text, version, deleted: false, createdT: 12, updatedT: t }], rejections: [] } };
}

describe('checkers on generated histories (property)', () => {
  it('edits applied out of publish order (the text of the last published wins): every checker says valid', () => {
    const order = fc.integer({ min: 1, max: 5 }).chain((k) => fc.shuffledSubarray([...Array(k).keys()].map((i) => i + 1), { minLength: k, maxLength: k }));
    fc.assert(
      fc.property(order, (o) => {
        const v = verdicts(overtakenEdits(o));
        expect(v['acknowledged-writes']).toBe(true);
        expect(Object.entries(v).filter(([, x]) => x !== true)).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });

  it('every checker says valid for any correct history', () => {
    fc.assert(
      fc.property(specArb, (spec) => {
        const run = simulate(spec);
        const v = verdicts(run);
        const { latency, ...judged } = v;
        expect(judged).toEqual(Object.fromEntries(Object.keys(judged).map((k) => [k, true])));
        // With no receipt to time, latency has nothing to say; it never says invalid.
        expect(latency === true || (latency === 'unknown' && receives(run.history).length === 0)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('a dropped receipt: delivery says invalid', () => {
    fc.assert(
      fc.property(specArb, fc.nat(), (spec, pick) => {
        const run = simulate(spec);
        // The change stays known (another receipt names its commit time) and was owed to this client.
        const all = receives(run.history);
        const victims = all.filter((r) => owed(spec, r) && all.some((o) => o.eventId === r.eventId && o.client !== r.client));
        fc.pre(victims.length > 0);
        const victim = victims[pick % victims.length]!;
        const bad = cloneRun(run);
        bad.history = bad.history.filter((e) => !(e.type === 'receive' && e.client === victim.client && e.eventId === victim.eventId));
        expect(verdicts(bad).delivery).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it('a swapped pair of receipts at one client: common-order says invalid', () => {
    fc.assert(
      fc.property(specArb, fc.nat(), (spec, pick) => {
        const run = simulate(spec);
        const all = receives(run.history);
        const pairs: Array<[ReceiveEvent, ReceiveEvent]> = [];
        for (const a of all) {
          for (const b of all) {
            if (a.client !== b.client || a.t >= b.t || a.messageId === b.messageId) continue;
            const seenElsewhere = (x: ReceiveEvent) => all.some((o) => o.eventId === x.eventId && o.client !== a.client);
            if (seenElsewhere(a) && all.some((o) => o.eventId === b.eventId && o.client !== a.client && all.some((p) => p.client === o.client && p.eventId === a.eventId))) pairs.push([a, b]);
          }
        }
        fc.pre(pairs.length > 0);
        const [a, b] = pairs[pick % pairs.length]!;
        const bad = cloneRun(run);
        const find = (x: ReceiveEvent) => receives(bad.history).find((e) => e.client === x.client && e.eventId === x.eventId)!;
        const [ca, cb] = [find(a), find(b)];
        [ca.t, cb.t] = [cb.t, ca.t];
        expect(verdicts(sortByT(bad))['common-order']).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it('an older version applied after a newer one: version-order says invalid', () => {
    fc.assert(
      fc.property(specArb, fc.nat(), (spec, pick) => {
        const run = simulate(spec);
        const all = receives(run.history);
        const olds = all.filter((r) => r.applied && all.some((n) => n.client === r.client && n.messageId === r.messageId && n.version > r.version && n.applied));
        fc.pre(olds.length > 0);
        const old = olds[pick % olds.length]!;
        const bad = cloneRun(run);
        const lastT = Math.max(...all.filter((r) => r.client === old.client && r.messageId === old.messageId).map((r) => r.t));
        bad.history.push({ ...old, eventId: `${old.eventId}-again`, t: lastT + 0.5, applied: true });
        expect(verdicts(sortByT(bad))['version-order']).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it("a final view left at an older version: convergence says invalid", () => {
    fc.assert(
      fc.property(specArb, fc.nat(), (spec, pick) => {
        const run = simulate(spec);
        const candidates: Array<{ view: ViewEvent; id: string }> = [];
        for (const v of run.history) {
          if (v.type !== 'view') continue;
          for (const row of v.rows) if (row.version > 1 && !row.deleted) candidates.push({ view: v, id: row.id });
        }
        fc.pre(candidates.length > 0);
        const { view, id } = candidates[pick % candidates.length]!;
        const bad = cloneRun(run);
        const row = bad.history.find((e): e is ViewEvent => e.type === 'view' && e.client === view.client)!.rows.find((r) => r.id === id)!;
        row.version -= 1;
        row.text = `${row.text} (stale)`;
        expect(verdicts(bad).convergence).toBe(false);
      }),
      { numRuns: 500 },
    );
  });
});
