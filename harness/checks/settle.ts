/**
 * What the run's settle event says: when the stack had not gone quiet before the final state was
 * read, an undelivered change or a view behind the database may still have been on its way, so
 * the checkers must not call it lost. DESIGN: "lost" is only said of a settled stack.
 */
import type { HistoryEvent } from '../history/types.ts';

/** Parts still busy at the deadline, or undefined when the run settled (or recorded nothing). */
export function unsettledParts(history: readonly HistoryEvent[]): string[] | undefined {
  let last: { settled: boolean; waiting: string[] } | undefined;
  for (const e of history) if (e.type === 'settle') last = e;
  if (!last || last.settled) return undefined;
  return last.waiting.length ? last.waiting : ['an unnamed part'];
}

/** Parts whose queue holds writes not yet in the database (as opposed to changes not yet delivered). */
export const WRITE_PATH_PARTS = ['integration rules', 'lambda'] as const;

export function unsettledNote(waiting: readonly string[]): string {
  return `the stack had not settled by the deadline (still busy: ${waiting.join(', ')}), so what is missing may have been on its way`;
}
