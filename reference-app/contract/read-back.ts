/**
 * Reads a room's history back far enough to cover what the view shows, for the catch-up after
 * a gap in the subscription. Bounded: at most CATCH_UP_MAX_PAGES pages of CATCH_UP_PAGE rows.
 * The page reader is the caller's (the browser's fetch, a virtual user's session).
 */
import type { ChatRow, HistoryPage } from './rows.ts';

export const CATCH_UP_PAGE = 100;
export const CATCH_UP_MAX_PAGES = 10;

export type FetchPage = (room: string, opts: { before: string | null; limit: number }) => Promise<HistoryPage>;

export interface ReadBack {
  rows: ChatRow[];
  /** Every live message created after this time is in `rows`; null: the whole room is. */
  coveredFrom: string | null;
}

export async function readBack(room: string, oldestShown: string | null, fetchPage: FetchPage): Promise<ReadBack> {
  const rows: ChatRow[] = [];
  let before: string | null = null;
  for (let i = 0; i < CATCH_UP_MAX_PAGES; i++) {
    const page = await fetchPage(room, { before, limit: CATCH_UP_PAGE });
    rows.push(...page.messages);
    if (!page.next) return { rows, coveredFrom: null };
    before = page.next;
    const last = page.messages[page.messages.length - 1];
    // Nothing shown: the newest page is all the view needs. Else read until past the oldest shown.
    if (!oldestShown || (last && Date.parse(last.created_at) < Date.parse(oldestShown))) break;
  }
  return { rows, coveredFrom: rows[rows.length - 1]?.created_at ?? null };
}
