/**
 * The room's message view: every message a client knows, keyed by id, newest version wins.
 *
 * Three sources feed it in any order: the client's own pending posts, the history endpoint and
 * the connector's INSERT/UPDATE/DELETE events on incoming. Because a join subscribes first and
 * loads history second, the same row can arrive twice and an UPDATE can arrive before the row it
 * changes; merging by (id, version) makes the order irrelevant. Pure functions over a plain
 * record, so a reactive store can pass its state and tests a plain object.
 */
import type { ChatRow, RowSource } from './rows.ts';

/** pending: published, its INSERT not seen yet; failed: the publish (or its confirmation) failed. */
export type Delivery = 'pending' | 'failed' | 'confirmed';

export interface ViewMessage {
  id: string;
  author: string;
  username: string;
  text: string;
  /** The row's version; 0 while only the local pending copy exists, so any row is newer. */
  version: number;
  edited: boolean;
  deleted: boolean;
  /** Known to be gone from the database (a hard DELETE, or a catch-up found it missing). */
  gone: boolean;
  createdAt: string;
  /** When it was sent (publish time, else the local send time, else createdAt): the display order. */
  sentAt: string;
  /** The client's send sequence; breaks ties of sentAt within one author. */
  seq: number;
  delivery: Delivery;
}

export type MessageMap = Record<string, ViewMessage>;

/** What a gone message ranks as: above every real version, so nothing brings it back. */
export const TOMBSTONE_VERSION = Number.MAX_SAFE_INTEGER;

function rankOf(m: ViewMessage): number {
  return m.gone ? TOMBSTONE_VERSION : m.version;
}

/**
 * Whether a row from `source` replaces what the view holds. A hard DELETE carries the row as it
 * was (a version the view may already hold), so it ranks as a tombstone.
 */
export function supersedes(current: ViewMessage | undefined, row: ChatRow, source: RowSource): boolean {
  if (!current || current.delivery !== 'confirmed') return true;
  const incoming = source === 'DELETE' ? TOMBSTONE_VERSION : row.version;
  return incoming > rankOf(current);
}

/** Merges one row; returns true when the view changed, false for a stale or repeated version. */
export function applyRow(view: MessageMap, row: ChatRow, source: RowSource): boolean {
  if (!supersedes(view[row.id], row, source)) return false;
  const gone = source === 'DELETE';
  view[row.id] = {
    id: row.id,
    author: row.author,
    username: row.username,
    text: row.text,
    version: row.version,
    edited: row.edited,
    deleted: gone || row.deleted,
    gone,
    createdAt: row.created_at,
    sentAt: row.sent_at ?? row.created_at,
    seq: Number(row.client_seq ?? 0) || 0,
    delivery: 'confirmed',
  };
  return true;
}

export interface PendingPost {
  id: string;
  author: string;
  username: string;
  text: string;
  createdAt: string;
  seq?: number;
}

/** Shows a post the user just sent; a row with the same id that is already here wins. */
export function addPending(view: MessageMap, post: PendingPost): void {
  if (view[post.id]) return;
  view[post.id] = { ...post, sentAt: post.createdAt, seq: post.seq ?? 0, version: 0, edited: false, deleted: false, gone: false, delivery: 'pending' };
}

/** Moves a local post between pending and failed; a confirmed message is never downgraded. */
export function setDelivery(view: MessageMap, id: string, delivery: 'pending' | 'failed'): boolean {
  const current = view[id];
  if (!current || current.delivery === 'confirmed') return false;
  current.delivery = delivery;
  return true;
}

/**
 * Catch-up after a gap the subscription could not bridge (a connection that did not resume):
 * `rows` is a fresh history read that covers every live message created after `coveredFrom`
 * (null: the whole room). History leaves deleted rows out, so a message the view held before
 * the read started, inside the covered span and missing from it, was deleted during the gap:
 * it becomes a tombstone. Messages that first arrived while the read was in flight are not
 * judged: the read may predate them.
 */
export function reconcile(
  view: MessageMap,
  rows: readonly ChatRow[],
  opts: { knownBefore: ReadonlySet<string>; coveredFrom: string | null },
  apply: (view: MessageMap, row: ChatRow, source: RowSource) => boolean = applyRow,
): number {
  let changed = 0;
  const seen = new Set<string>();
  for (const row of rows) {
    seen.add(row.id);
    if (apply(view, row, 'history')) changed++;
  }
  const from = opts.coveredFrom === null ? -Infinity : timeOf(opts.coveredFrom);
  for (const id of opts.knownBefore) {
    const m = view[id];
    if (!m || m.delivery !== 'confirmed' || m.deleted || seen.has(id)) continue;
    if (timeOf(m.createdAt) <= from) continue;
    m.deleted = true;
    m.gone = true;
    changed++;
  }
  return changed;
}

function timeOf(iso: string): number {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? 0 : t;
}

/**
 * Display order: by send time, then the client's send sequence (one author's posts stamped in the
 * same millisecond), then id, so every view orders the same rows the same way.
 */
export function compareSendOrder(a: ViewMessage, b: ViewMessage): number {
  return timeOf(a.sentAt) - timeOf(b.sentAt) || a.seq - b.seq || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** The messages to show, in send order; deleted ones are gone from the room. */
export function visibleMessages(view: MessageMap): ViewMessage[] {
  return Object.values(view)
    .filter((m) => !m.deleted)
    .sort(compareSendOrder);
}

/**
 * When the oldest confirmed message shown was committed: how far a catch-up must read back.
 * History pages by commit time, which differs from the display order.
 */
export function oldestShown(view: MessageMap): string | null {
  let oldest: string | null = null;
  for (const m of Object.values(view)) {
    if (m.deleted || m.delivery !== 'confirmed') continue;
    if (oldest === null || timeOf(m.createdAt) < timeOf(oldest)) oldest = m.createdAt;
  }
  return oldest;
}
