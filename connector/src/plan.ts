/**
 * Pure drain logic: turns outbox rows (already in commit order) into publishes, without I/O.
 *
 * Message ids derive from the outbox position, so a row re-published after a crash carries the
 * same id and the realtime service's idempotent publishing drops the copy. With batching, a group
 * holds rows of ONE transaction on ONE channel from one block of positions, so after a crash the
 * same group forms again, with the same `<base>:<index>` ids Ably requires for multi-message
 * publishes.
 */
import { ORIGINAL_MESSAGE_NAME, type Mapping } from './config.ts';
import { renderChannel } from './channel-template.ts';
import type { OutboxRow } from './outbox.ts';

export interface ChangeData {
  table: string;
  type: string;
  row: Record<string, unknown>;
  /**
   * Where the change stands in the database's commit order: (commit number, outbox sequence),
   * compared element by element. Subscribers (and the harness's commit-order checker) can tell
   * from it whether a channel delivered changes of different rows in the order they committed.
   * Both paths carry it: a read takes it from the commit row, a notification from the commit
   * trigger that sent it. Absent only when the commit trigger was bypassed.
   */
  position?: [number, number];
  /**
   * When the connector handed the message to its realtime client: epoch milliseconds with the
   * microseconds as the fraction (the realtime message's own timestamp has whole milliseconds,
   * too coarse for a commit->publish stage of a few hundred microseconds). Set at each send, so
   * a re-send carries the later time.
   */
  publishedAt?: number;
}

/** Room `publishedAt` takes in a message's JSON: `,"publishedAt":` and an epoch-ms number with up to 6 decimals. */
export const PUBLISHED_AT_BYTES = 40;

export interface OutMessage {
  id: string;
  name: string;
  data: ChangeData;
}

export interface Publish {
  channel: string;
  messages: OutMessage[];
  /** Outbox rows this publish covers (a row with several channels is done when all its publishes are). */
  seqs: number[];
  /** Size as ably-js counts it against maxMessageSize. */
  size: number;
  committedMs: number | null;
  /** The transaction (commit number) the rows belong to; a group never spans two. */
  commitSeq: number | null;
}

export interface Rejected {
  seq: number;
  reason: string;
}

export interface Plan {
  publishes: Publish[];
  /** Rows that can never be published (too large, no channel): dead-letter them, do not block. */
  rejected: Rejected[];
  /** Rows for no configured mapping (e.g. a mapping was removed while rows were queued). */
  unmapped: number[];
  /** Rows held back for the next read because their group may be incomplete. */
  deferred: number[];
  /** How many publishes each row needs acknowledged before it is done. */
  pending: Map<number, number>;
}

export interface PlanOptions {
  outboxId: string;
  /** mapping index: `${relname}\0${operation}` -> mappings */
  routes: Map<string, Mapping[]>;
  messageName: 'operation' | 'original';
  maxMessages: number;
  maxMessageSize: number;
  /** The read returned as many rows as asked: its last transaction may continue beyond it. */
  truncated: boolean;
}

export function routeKey(relname: string, op: string): string {
  return `${relname}\u0000${op}`;
}

/** ably-js's own count: name + data (as the JSON text it sends, publish time included); ids do not count. */
export function messageSize(m: OutMessage): number {
  return m.name.length + Buffer.byteLength(JSON.stringify(m.data)) + (m.data.publishedAt === undefined ? PUBLISHED_AT_BYTES : 0);
}

/** Postgres writes the row's JSON compactly, as JSON.stringify does; near the limit, measure exactly. */
function sizeOf(m: OutMessage, rowBytes: number | undefined, limit: number): number {
  if (rowBytes === undefined) return messageSize(m);
  const estimate = m.name.length + rowBytes + Buffer.byteLength(m.data.table) + m.data.type.length + 80 + PUBLISHED_AT_BYTES;
  return estimate < limit - 1024 ? estimate : messageSize(m);
}

function describeRow(r: OutboxRow): string {
  const id = r.row.id;
  const key = id === undefined || id === null ? '' : ` id=${JSON.stringify(id).slice(0, 100)}`;
  return `${r.tablename} ${r.operation} outbox seq ${r.seq}${key}`;
}

interface Item {
  row: OutboxRow;
  channel: string;
  message: OutMessage;
  size: number;
  /** Index among the row's channels, to keep ids unique when one row goes to several channels. */
  k: number;
}

export function planDrain(rows: readonly OutboxRow[], o: PlanOptions): Plan {
  const plan: Plan = { publishes: [], rejected: [], unmapped: [], deferred: [], pending: new Map() };
  const items: Item[] = [];
  for (const row of rows) {
    const maps = o.routes.get(routeKey(row.tablename, row.operation));
    if (!maps || maps.length === 0) {
      plan.unmapped.push(row.seq);
      continue;
    }
    const data: ChangeData = { table: row.tablename, type: row.operation, row: row.row, ...(row.commitSeq === null ? {} : { position: [row.commitSeq, row.seq] }) };
    const name = o.messageName === 'original' ? ORIGINAL_MESSAGE_NAME : row.operation;
    const mine: Item[] = [];
    let failure: string | undefined;
    const channels = new Set<string>();
    for (const m of maps) {
      const r = renderChannel(m.channel, row.row);
      if ('error' in r) {
        failure = `${describeRow(row)}: no channel for ${JSON.stringify(m.ablychannelname)}: ${r.error}`;
        break;
      }
      if (channels.has(r.channel)) continue;
      channels.add(r.channel);
      const k = mine.length;
      const message: OutMessage = { id: `${o.outboxId}:${row.seq}${k ? `.${k}` : ''}`, name, data };
      const size = sizeOf(message, row.rowBytes, o.maxMessageSize);
      if (size > o.maxMessageSize) {
        failure = `${describeRow(row)}: message of ${size} bytes exceeds the realtime limit of ${o.maxMessageSize} bytes`;
        break;
      }
      mine.push({ row, channel: r.channel, message, size, k });
    }
    if (failure) {
      plan.rejected.push({ seq: row.seq, reason: failure });
      continue;
    }
    items.push(...mine);
  }

  if (o.maxMessages <= 1) {
    for (const it of items) addPublish(plan, it.channel, [it]);
    return plan;
  }

  // Batching: a group is the rows of one transaction, on one channel, whose positions fall in
  // one block of maxMessages positions. Positions never change and a read is sorted by position
  // within a transaction, so a group is the same set of rows whenever and however it is read.
  const open = new Map<string, { key: string; items: Item[] }>();
  const flush = (channel: string) => {
    const g = open.get(channel);
    if (g) addGroup(plan, g.items, o);
    open.delete(channel);
  };
  for (const it of items) {
    const key = it.row.commitSeq === null ? `solo${it.row.seq}` : `${it.row.commitSeq}/${Math.floor(it.row.seq / o.maxMessages)}`;
    const g = open.get(it.channel);
    if (g && (g.key !== key || g.items.reduce((s, x) => s + x.size, 0) + it.size > o.maxMessageSize)) flush(it.channel);
    const cur = open.get(it.channel);
    if (cur) cur.items.push(it);
    else open.set(it.channel, { key, items: [it] });
  }
  for (const channel of [...open.keys()]) flush(channel);
  if (o.truncated && rows.length) holdBack(plan, rows[rows.length - 1]!, o.maxMessages);
  return plan;
}

/**
 * A truncated read may have cut the last block of its last transaction: hold that block back
 * (and, to keep each channel in order, whatever follows it on the same channel) for the next read.
 */
function holdBack(plan: Plan, last: OutboxRow, maxMessages: number): void {
  if (last.commitSeq === null) return;
  const block = Math.floor(last.seq / maxMessages);
  const held = new Set<number>();
  for (const p of plan.publishes) {
    for (const s of p.seqs) if (Math.floor(s / maxMessages) === block && p.commitSeq === last.commitSeq) held.add(s);
  }
  if (held.size === 0) return;
  // Dropping one publish holds its rows (maybe in other channels' publishes) and everything after
  // it on its channel; repeat until nothing more drops.
  const blockedFrom = new Map<string, number>();
  const dropped = new Set<number>();
  for (let changed = true; changed; ) {
    changed = false;
    plan.publishes.forEach((p, i) => {
      if (dropped.has(i)) return;
      if (i >= (blockedFrom.get(p.channel) ?? Infinity) || p.seqs.some((s) => held.has(s))) {
        dropped.add(i);
        if (i < (blockedFrom.get(p.channel) ?? Infinity)) blockedFrom.set(p.channel, i);
        p.seqs.forEach((s) => held.add(s));
        changed = true;
      }
    });
  }
  const kept = plan.publishes.filter((_, i) => !dropped.has(i));
  // A read no longer than one block cannot keep boundaries; drainLimit > maxMessages prevents it.
  if (kept.length === 0 && plan.rejected.length === 0 && plan.unmapped.length === 0) return;
  plan.publishes = kept;
  plan.deferred = [...held];
  plan.pending = new Map();
  for (const p of plan.publishes) for (const s of p.seqs) plan.pending.set(s, (plan.pending.get(s) ?? 0) + 1);
}

function addPublish(plan: Plan, channel: string, group: Item[], ids?: string[]): void {
  const messages = group.map((g, i) => (ids ? { ...g.message, id: ids[i]! } : g.message));
  const seqs = group.map((g) => g.row.seq);
  plan.publishes.push({
    channel,
    messages,
    seqs,
    size: group.reduce((s, g) => s + g.size, 0),
    committedMs: group[0]!.row.committedMs,
    commitSeq: group[0]!.row.commitSeq,
  });
  for (const s of seqs) plan.pending.set(s, (plan.pending.get(s) ?? 0) + 1);
}

function addGroup(plan: Plan, group: Item[], o: PlanOptions): void {
  if (group.length === 1) return addPublish(plan, group[0]!.channel, group);
  const first = group[0]!;
  const base = `${o.outboxId}:${first.row.seq}${first.k ? `.${first.k}` : ''}-g`;
  addPublish(plan, first.channel, group, group.map((_, i) => `${base}:${i}`));
}
