/**
 * A client's local view of a room, built only from what it received: id -> newest version.
 * The web app's store follows the same rules; the planted defect `view-no-version-check`
 * applies every event regardless of version, which the version-order and convergence
 * checkers must catch.
 */
import type { ViewRow } from '../history/types.ts';

export interface ChangeRow {
  id: string;
  text: string;
  version: number;
  deleted: boolean;
  author: string;
}

export class ClientView {
  private readonly rows = new Map<string, ViewRow>();
  /** Per row, the rank of what the view holds: its version, or Infinity once hard-deleted. */
  private readonly ranks = new Map<string, number>();

  constructor(private readonly opts: { ignoreVersions?: boolean } = {}) {}

  /** Applies a change if it is newer than what the view holds; returns whether it did. */
  apply(change: ChangeRow, op: 'INSERT' | 'UPDATE' | 'DELETE'): boolean {
    // A hard DELETE carries the row as it was (the version the view may already hold); like the
    // web app's tombstone, it outranks every version so nothing brings the message back.
    const rank = op === 'DELETE' ? Infinity : change.version;
    const current = this.ranks.get(change.id);
    if (current !== undefined && !this.opts.ignoreVersions && rank <= current) return false;
    this.ranks.set(change.id, rank);
    this.rows.set(change.id, {
      id: change.id,
      text: change.text,
      version: change.version,
      // A hard DELETE event carries the old row; treat it as gone.
      deleted: op === 'DELETE' ? true : change.deleted,
      author: change.author,
    });
    return true;
  }

  /**
   * The row is known to be gone from the database (a catch-up read it back and it was absent):
   * it leaves the view for good, as a hard DELETE would.
   */
  forget(id: string): void {
    this.ranks.set(id, Infinity);
    this.rows.delete(id);
  }

  /** Ids of the rows the view shows (not deleted). */
  liveIds(): string[] {
    return [...this.rows.values()].filter((r) => !r.deleted).map((r) => r.id);
  }

  get(id: string): ViewRow | undefined {
    return this.rows.get(id);
  }

  snapshot(): ViewRow[] {
    return [...this.rows.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
}
