/**
 * One pass over a history that every checker shares: operations by id, subscription intervals,
 * receipts per subscriber, and the set of committed changes with their commit times.
 * Checkers stay pure: the index is derived from (history, final) alone and cached per history,
 * so a history and final state must not be changed in place once checked (copy them instead).
 */
import type {
  AckEvent,
  DbRejection,
  DbRow,
  FailEvent,
  FinalState,
  HistoryEvent,
  InvokeEvent,
  ReceiveEvent,
  RunStartEvent,
  ViewEvent,
} from '../history/types.ts';

export interface Interval {
  start: number;
  end: number;
  /** Still attached when the run ended (no unsubscribe). */
  open: boolean;
}

export interface Subscriber {
  key: string;
  client: string;
  room: string;
  intervals: Interval[];
}

/** One committed change of a row: version v of an INSERT/UPDATE, or a hard DELETE. */
export interface Change {
  key: string;
  messageId: string;
  version: number;
  hardDelete: boolean;
  room: string;
  /** Commit time on the run's axis, when a receipt or the final row tells it. */
  commitT?: number;
  /** Otherwise the commit lies somewhere in [lo, hi]. */
  lo: number;
  hi: number;
}

export interface RunIndex {
  start?: RunStartEvent;
  startT: number;
  endT: number;
  invokes: Map<string, InvokeEvent>;
  acks: Map<string, AckEvent>;
  fails: Map<string, FailEvent>;
  /** Every receipt, sorted by t (stable). */
  receives: ReceiveEvent[];
  receivesBySub: Map<string, ReceiveEvent[]>;
  receivesByChange: Map<string, ReceiveEvent[]>;
  subscribers: Map<string, Subscriber>;
  subscribersByRoom: Map<string, Subscriber[]>;
  views: ViewEvent[];
  rows: Map<string, DbRow>;
  rejectionsByMessage: Map<string, DbRejection[]>;
  changes: Map<string, Change>;
  /** Analyses already computed for this run (checkers, metrics and the report share them). */
  memo: Map<string, unknown>;
}

export const subKey = (client: string, room: string): string => `${client}\u0000${room}`;
export const changeKey = (messageId: string, version: number, hardDelete: boolean): string =>
  hardDelete ? `${messageId}\u0000DELETE` : `${messageId}\u0000${version}`;
export const changeKeyOf = (r: ReceiveEvent): string => changeKey(r.messageId, r.version, r.name === 'DELETE');

const cache = new WeakMap<readonly HistoryEvent[], { final: FinalState; index: RunIndex }>();

export function indexRun(history: readonly HistoryEvent[], final: FinalState): RunIndex {
  const hit = cache.get(history);
  if (hit && hit.final === final) return hit.index;
  const index = build(history, final);
  cache.set(history, { final, index });
  return index;
}

/** Computes an analysis once per run and key. */
export function memoized<T>(history: readonly HistoryEvent[], final: FinalState, key: string, compute: (idx: RunIndex) => T): T {
  const idx = indexRun(history, final);
  if (idx.memo.has(key)) return idx.memo.get(key) as T;
  const value = compute(idx);
  idx.memo.set(key, value);
  return value;
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}

function build(history: readonly HistoryEvent[], final: FinalState): RunIndex {
  const idx: RunIndex = {
    startT: 0,
    endT: 0,
    invokes: new Map(),
    acks: new Map(),
    fails: new Map(),
    receives: [],
    receivesBySub: new Map(),
    receivesByChange: new Map(),
    subscribers: new Map(),
    subscribersByRoom: new Map(),
    views: [],
    rows: new Map(final.rows.map((r) => [r.id, r])),
    rejectionsByMessage: new Map(),
    changes: new Map(),
    memo: new Map(),
  };
  let lastT = 0;
  let runEndT: number | undefined;
  const subEvents: { t: number; type: 'subscribe' | 'unsubscribe'; client: string; room: string }[] = [];
  for (const e of history) {
    lastT = Math.max(lastT, e.t);
    switch (e.type) {
      case 'run-start': idx.start ??= e; idx.startT = e.t; break;
      case 'run-end': runEndT = e.t; break;
      case 'invoke': idx.invokes.set(e.opId, e); break;
      case 'ack': if (!idx.acks.has(e.opId)) idx.acks.set(e.opId, e); break;
      case 'fail': if (!idx.fails.has(e.opId)) idx.fails.set(e.opId, e); break;
      case 'receive': idx.receives.push(e); break;
      case 'subscribe': case 'unsubscribe': subEvents.push(e); break;
      case 'view': idx.views.push(e); break;
      default: break;
    }
  }
  idx.endT = runEndT ?? lastT;
  idx.receives.sort((a, b) => a.t - b.t);
  for (const r of idx.receives) {
    push(idx.receivesBySub, subKey(r.client, r.room), r);
    push(idx.receivesByChange, changeKeyOf(r), r);
  }
  for (const rej of final.rejections) push(idx.rejectionsByMessage, rej.messageId, rej);

  subEvents.sort((a, b) => a.t - b.t);
  for (const e of subEvents) {
    const key = subKey(e.client, e.room);
    let sub = idx.subscribers.get(key);
    if (!sub) {
      sub = { key, client: e.client, room: e.room, intervals: [] };
      idx.subscribers.set(key, sub);
      push(idx.subscribersByRoom, e.room, sub);
    }
    const last = sub.intervals.at(-1);
    if (e.type === 'subscribe') {
      if (!last || !last.open) sub.intervals.push({ start: e.t, end: idx.endT, open: true });
    } else if (last && last.open) {
      last.end = e.t;
      last.open = false;
    }
  }
  buildChanges(idx);
  return idx;
}

/** Every version 1..N of a final row was committed; a hard-deleted row is known only from receipts. */
function buildChanges(idx: RunIndex): void {
  const add = (messageId: string, version: number, hardDelete: boolean, room: string) => {
    const key = changeKey(messageId, version, hardDelete);
    const seen = idx.receivesByChange.get(key) ?? [];
    const commitTs = seen.map((r) => r.commitT).filter((x): x is number => x !== undefined);
    const c: Change = { key, messageId, version, hardDelete, room, lo: idx.startT, hi: idx.endT };
    if (commitTs.length) c.commitT = minOf(commitTs);
    idx.changes.set(key, c);
    return c;
  };
  const perMessage = new Map<string, Change[]>();
  for (const row of idx.rows.values()) {
    const list: Change[] = [];
    for (let v = 1; v <= row.version; v++) list.push(add(row.id, v, false, row.room));
    if (list[0] && list[0].commitT === undefined) list[0].commitT = row.createdT;
    const lastC = list.at(-1);
    if (lastC && lastC.commitT === undefined) lastC.commitT = row.updatedT;
    perMessage.set(row.id, list);
  }
  const topSeen = new Map<string, number>();
  for (const r of idx.receives) topSeen.set(r.messageId, Math.max(topSeen.get(r.messageId) ?? 0, r.version));
  for (const [key, rs] of idx.receivesByChange) {
    const r = rs[0]!;
    if (r.name !== 'DELETE' || idx.rows.has(r.messageId) || idx.changes.has(key)) continue;
    const top = topSeen.get(r.messageId) ?? r.version;
    const list: Change[] = [];
    for (let v = 1; v <= top; v++) list.push(add(r.messageId, v, false, r.room));
    list.push(add(r.messageId, top, true, r.room));
    perMessage.set(r.messageId, list);
  }
  // An unknown commit time lies between its neighbours' known ones.
  for (const list of perMessage.values()) {
    let lo = idx.startT;
    for (const c of list) {
      if (c.commitT !== undefined) lo = c.commitT;
      else c.lo = lo;
    }
    let hi = idx.endT;
    for (let i = list.length - 1; i >= 0; i--) {
      const c = list[i]!;
      if (c.commitT !== undefined) hi = c.commitT;
      else c.hi = hi;
    }
  }
}

/** A change committed this soon after a subscribe is not owed: attach and commit may race. */
export const DEFAULT_ATTACH_GRACE_MS = 5;
/** Nor one committed this soon before an unsubscribe: its publish may follow the detach. */
export const DEFAULT_DETACH_GRACE_MS = 1000;

/** Is the subscriber attached over all of [from, to] (with grace at both ends)? */
export function attachedThroughout(sub: Subscriber, from: number, to: number, attachGraceMs: number, detachGraceMs: number): boolean {
  return sub.intervals.some(
    (iv) => iv.start + attachGraceMs <= from && to <= (iv.open ? iv.end : iv.end - detachGraceMs),
  );
}

/**
 * When a change was published: the earliest of the connector's stamps on its receipts (a change
 * nobody received has none). A subscriber owes nothing for what was published after it left.
 */
export function publishedAt(idx: RunIndex, key: string): number | undefined {
  let first: number | undefined;
  for (const r of idx.receivesByChange.get(key) ?? []) if (r.publishT !== undefined && (first === undefined || r.publishT < first)) first = r.publishT;
  return first;
}

export function isWrite(op: InvokeEvent['op']): op is 'post' | 'edit' | 'delete' {
  return op === 'post' || op === 'edit' || op === 'delete';
}

/** A short, human-readable name of a change for details. */
export function describeChange(c: Change): string {
  return c.hardDelete ? `${c.messageId} DELETE` : `${c.messageId} v${c.version}`;
}

/** Smallest/largest of a list without spreading it into arguments (long lists overflow the stack). */
export function minOf(xs: Iterable<number>): number {
  let m = Infinity;
  for (const x of xs) if (x < m) m = x;
  return m;
}
export function maxOf(xs: Iterable<number>): number {
  let m = -Infinity;
  for (const x of xs) if (x > m) m = x;
  return m;
}

/** First element of a list for details, bounded so that a broken run does not blow up the report. */
export function examples<T>(list: readonly T[], n = 10): T[] {
  return list.slice(0, n);
}
