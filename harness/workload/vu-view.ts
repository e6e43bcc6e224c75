/**
 * A virtual user's view of its room: the chat contract's message view (the web app's own rules
 * for applying changes and reconciling a catch-up), read back as the history's view rows.
 *
 * The planted defect `view-no-version-check` lives here, around the contract's rule: it drops
 * what the view holds before each merge, so every row applies whatever its version; the
 * version-order and convergence checkers must catch it.
 */
import { applyRow, reconcile, type ChatRow, type MessageMap, type ReadBack, type RowSource, type ViewMessage } from '../../reference-app/contract/index.ts';
import type { ViewRow } from '../history/types.ts';

export class VuView {
  private readonly messages: MessageMap = {};
  private readonly apply: (view: MessageMap, row: ChatRow, source: RowSource) => boolean;

  constructor(opts: { ignoreVersions?: boolean } = {}) {
    this.apply = opts.ignoreVersions
      ? (view, row, source) => {
          delete view[row.id];
          return applyRow(view, row, source);
        }
      : applyRow;
  }

  /** Merges a row from incoming or history; returns whether the view changed. */
  merge(row: ChatRow, source: RowSource): boolean {
    return this.apply(this.messages, row, source);
  }

  /** Ids the view holds now: what a catch-up may judge. */
  knownIds(): Set<string> {
    return new Set(Object.keys(this.messages));
  }

  /** Merges a catch-up's read-back; messages it proves gone leave the view. */
  reconcile(read: ReadBack, knownBefore: ReadonlySet<string>): number {
    return reconcile(this.messages, read.rows, { knownBefore, coveredFrom: read.coveredFrom }, this.apply);
  }

  messagesView(): Readonly<MessageMap> {
    return this.messages;
  }

  /**
   * A message as the view shows it. A gone message (hard DELETE, or missing from a catch-up)
   * has no version the database still holds, so it reads as absent, which the convergence
   * checker accepts for a deleted row.
   */
  get(id: string): ViewRow | undefined {
    const m = this.messages[id];
    return m && !m.gone ? toViewRow(m) : undefined;
  }

  snapshot(): ViewRow[] {
    return Object.values(this.messages)
      .filter((m) => !m.gone)
      .map(toViewRow)
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
}

function toViewRow(m: ViewMessage): ViewRow {
  return { id: m.id, text: m.text, version: m.version, deleted: m.deleted, author: m.author };
}
