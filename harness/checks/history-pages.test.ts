import { describe, expect, it } from 'vitest';
import type { HistoryPageEvent } from '../history/types.ts';
import { historyPagesChecker } from './history-pages.ts';
import { versionContentChecker } from './version-content.ts';
import { cleanRun, insertEvent } from './testing.ts';

const check = historyPagesChecker();
const run = cleanRun();
const lobby = run.final.rows.filter((r) => r.room === 'lobby');
const row = (id: string) => {
  const r = lobby.find((x) => x.id === id);
  if (!r) throw new Error(`no row ${id}`);
  return { id: r.id, text: r.text, version: r.version, deleted: r.deleted, author: r.author, createdT: r.createdT };
};

/** One read by a joiner of lobby: its pages, requested from `t` on, 1 ms apart. */
function withRead(t: number, pages: Array<{ ids: string[]; more: boolean }>, edit?: (p: HistoryPageEvent[]) => void) {
  const events: HistoryPageEvent[] = pages.map((p, i) => ({
    type: 'history-page',
    t: t + i + 0.5,
    client: 'j',
    room: 'lobby',
    read: 'j:join:1',
    page: i,
    sentT: t + i,
    limit: 2,
    more: p.more,
    rows: p.ids.map(row),
  }));
  edit?.(events);
  return events.reduce((r, e) => insertEvent(r, e), run);
}

describe('history-pages', () => {
  it('the clean run has its rows, newest first, in the order created', () => {
    // The fixture this test relies on: lobby's live rows are m5, m2, m1 (newest first); m4 was deleted.
    expect(lobby.filter((r) => !r.deleted).sort((a, b) => b.createdT - a.createdT).map((r) => r.id)).toEqual(['m5', 'm2', 'm1']);
  });

  it('passes a whole read in order, and owes only committed rows never deleted', () => {
    const r = withRead(95, [{ ids: ['m5', 'm2'], more: true }, { ids: ['m1'], more: false }]);
    expect(check(r.history, r.final)).toMatchObject({ valid: true, details: { reads: 1, pages: 2, owedRows: 3 } });
  });

  it('does not owe a row first received after the read began', () => {
    const r = withRead(65, [{ ids: ['m2', 'm1'], more: false }]);
    expect(check(r.history, r.final)).toMatchObject({ valid: true, details: { owedRows: 2 } });
  });

  it('a read cut short owes only the rows down to its last one', () => {
    expect(check(withRead(95, [{ ids: ['m5'], more: true }]).history, run.final)).toMatchObject({ valid: true, details: { owedRows: 1 } });
    const gap = withRead(95, [{ ids: ['m5', 'm1'], more: true }]);
    expect(check(gap.history, gap.final)).toMatchObject({ valid: false, details: { gaps: 1, problemExamples: [{ kind: 'gap', messageId: 'm2' }] } });
  });

  it('catches a first page without the newest row, though the joiner had it live', () => {
    const r = withRead(95, [{ ids: ['m2', 'm1'], more: false }]);
    expect(check(r.history, r.final)).toMatchObject({ valid: false, details: { gaps: 1, problemExamples: [{ kind: 'gap', messageId: 'm5' }] } });
  });

  it('catches a page oldest first, and pages read in the wrong order', () => {
    const flipped = withRead(95, [{ ids: ['m2', 'm5'], more: true }, { ids: ['m1'], more: false }]);
    expect(check(flipped.history, flipped.final)).toMatchObject({ valid: false, details: { misordered: 1, problemExamples: [{ kind: 'order', messageId: 'm5', page: 0 }] } });
    const swapped = withRead(95, [{ ids: ['m1'], more: true }, { ids: ['m5', 'm2'], more: false }]);
    expect(check(swapped.history, swapped.final)).toMatchObject({ valid: false, details: { misordered: 1, problemExamples: [{ kind: 'order', messageId: 'm5', page: 1 }] } });
  });

  it('catches pages that overlap at their boundary', () => {
    const r = withRead(95, [{ ids: ['m5', 'm2'], more: true }, { ids: ['m2', 'm1'], more: false }]);
    expect(check(r.history, r.final)).toMatchObject({ valid: false, details: { overlaps: 1, misordered: 0, gaps: 0, problemExamples: [{ kind: 'overlap', messageId: 'm2', page: 1 }] } });
  });

  it('version-content compares history pages too', () => {
    const r = withRead(95, [{ ids: ['m5', 'm2'], more: true }, { ids: ['m1'], more: false }], (p) => {
      p[1]!.rows[0]!.text = 'another text under the same version';
    });
    expect(versionContentChecker()(r.history, r.final)).toMatchObject({ valid: false });
  });
});
