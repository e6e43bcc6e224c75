/**
 * The room's message view: every message the client knows, keyed by id, newest version wins.
 *
 * Three sources feed it in any order: the client's own pending posts, the history endpoint and
 * the connector's INSERT/UPDATE/DELETE events on `incoming`. Because a join subscribes first and
 * loads history second, the same row can arrive twice and an UPDATE can arrive before the row it
 * changes; merging by (id, version) makes the order irrelevant. Pure functions over a plain
 * record, so the Pinia store can pass its reactive state and the tests a plain object.
 */

/** A `chat_messages` row as the history endpoint and the connector send it. */
export interface ChatRow {
  id: string;
  room: string;
  author: string;
  username: string;
  text: string;
  version: number;
  edited: boolean;
  deleted: boolean;
  created_at: string;
  updated_at: string;
}

/** pending: published, its INSERT not seen yet; failed: the publish (or its confirmation) failed. */
export type Delivery = 'pending' | 'failed' | 'confirmed';

export interface ViewMessage {
  id: string;
  author: string;
  username: string;
  text: string;
  /** 0 while only the local pending copy exists, so any row from the database is newer. */
  version: number;
  edited: boolean;
  deleted: boolean;
  createdAt: string;
  delivery: Delivery;
}

export type MessageMap = Record<string, ViewMessage>;

/** Where a row came from: a change event on `incoming`, or a page of the history endpoint. */
export type RowSource = 'INSERT' | 'UPDATE' | 'DELETE' | 'history';

/**
 * A hard DELETE carries the row as it was; nothing that arrives after it may bring the message
 * back, so its tombstone outranks every real version.
 */
const TOMBSTONE_VERSION = Number.MAX_SAFE_INTEGER;

/** Merges one row; returns true when the view changed, false for a stale or repeated version. */
export function applyRow(view: MessageMap, row: ChatRow, source: RowSource): boolean {
  const current = view[row.id];
  const version = source === 'DELETE' ? TOMBSTONE_VERSION : row.version;
  if (current && current.delivery === 'confirmed' && current.version >= version) return false;
  view[row.id] = {
    id: row.id,
    author: row.author,
    username: row.username,
    text: row.text,
    version,
    edited: row.edited,
    deleted: source === 'DELETE' ? true : row.deleted,
    createdAt: row.created_at,
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
}

/** Shows a post the user just sent; a row with the same id that is already here wins. */
export function addPending(view: MessageMap, post: PendingPost): void {
  if (view[post.id]) return;
  view[post.id] = { ...post, version: 0, edited: false, deleted: false, delivery: 'pending' };
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
 * the read started, inside the covered span and missing from it, was deleted during the gap.
 * Messages that first arrived while the read was in flight are not judged: the read may predate them.
 */
export function reconcile(
  view: MessageMap,
  rows: readonly ChatRow[],
  opts: { knownBefore: ReadonlySet<string>; coveredFrom: string | null },
): number {
  let changed = 0;
  const seen = new Set<string>();
  for (const row of rows) {
    seen.add(row.id);
    if (applyRow(view, row, 'history')) changed++;
  }
  const from = opts.coveredFrom === null ? -Infinity : timeOf(opts.coveredFrom);
  for (const id of opts.knownBefore) {
    const m = view[id];
    if (!m || m.delivery !== 'confirmed' || m.deleted || seen.has(id)) continue;
    if (timeOf(m.createdAt) <= from) continue;
    m.deleted = true;
    changed++;
  }
  return changed;
}

function timeOf(iso: string): number {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? 0 : t;
}

/** The messages to show, oldest first; deleted ones are gone from the room. */
export function visibleMessages(view: MessageMap): ViewMessage[] {
  return Object.values(view)
    .filter((m) => !m.deleted)
    .sort((a, b) => timeOf(a.createdAt) - timeOf(b.createdAt) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
