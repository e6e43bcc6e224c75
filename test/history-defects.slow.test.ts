/**
 * The history checks against each planted history defect, on the real stack, without timing luck:
 * a writer fills a room of its own and gets every change back, then a joiner reads the quiet room
 * in pages of 3. The clean endpoint passes history-pages and convergence; each defect fails
 * history-pages (and the dropped newest row also leaves the joiner's view short: nothing live
 * arrives to fill it).
 */
import { describe, expect, it } from 'vitest';
import { runCheckers } from '../harness/checks/index.ts';
import { inClockOrder } from '../harness/history/reader.ts';
import type { HistoryEvent } from '../harness/history/types.ts';
import { captureFinalState } from '../harness/runner/run.ts';
import type { PlantedDefects } from '../harness/stack/defects.ts';
import { startStack } from '../harness/stack/index.ts';
import { freshDatabase } from '../harness/testing/pg.ts';
import { MemoryRecorder } from '../harness/workload/recorder.ts';
import { VirtualUser } from '../harness/workload/virtual-user.ts';

/** Resolves when `pred` holds for the recorder's events, checked on every recorded event. */
function when(rec: MemoryRecorder, pred: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const record = rec.record.bind(rec);
    if (pred()) return resolve();
    rec.record = (e) => {
      record(e);
      if (pred()) {
        rec.record = record;
        resolve();
      }
    };
  });
}

async function quietRead(defects: PlantedDefects): Promise<Record<string, { valid: unknown; details: Record<string, unknown> }>> {
  const stack = await startStack({ databaseUrl: await freshDatabase(), defects });
  const rec = new MemoryRecorder();
  const room = `quiet-${Date.now().toString(36)}`;
  const user = (clientId: string, extra: { historyUrl?: string; historyPageLimit?: number } = {}) =>
    new VirtualUser({ clientId, room, realtime: stack.realtimeClientOptions, auth: { kind: 'session', loginUrl: stack.endpoints.loginUrl, tokenUrl: stack.endpoints.tokenUrl }, recorder: rec, ...extra });
  const writer = user('qw');
  const joiner = user('qj', { historyUrl: stack.endpoints.historyUrl!, historyPageLimit: 3 });
  try {
    await writer.join();
    for (let i = 0; i < 8; i++) await writer.post(`q${i}`, `post ${i}`);
    await writer.edit('qe', 'q7', 'the newest, edited');
    await writer.delete('qd', 'q3');
    // 8 inserts, the edit and the delete, all back on incoming: everything committed.
    await when(rec, () => rec.events.filter((e) => e.type === 'receive' && e.client === 'qw').length >= 10);
    await joiner.join();
    await stack.quiesce(10_000);
    writer.recordView();
    joiner.recordView();
    const final = await captureFinalState(stack.endpoints.databaseUrl, [room], rec.epochMs);
    const history: HistoryEvent[] = inClockOrder([{ type: 'run-start', t: 0, scenario: 'quiet-read', seed: 0, epochMs: rec.epochMs, options: {} }, ...rec.events, { type: 'run-end', t: rec.now() }]);
    return Object.fromEntries(runCheckers(history, final, { only: ['history-pages', 'convergence'] }).map((c) => [c.name, { valid: c.valid, details: c.details }]));
  } finally {
    await Promise.all([writer.leave(), joiner.leave()]);
    await stack.stop();
  }
}

// A stack each, and the default integration's modelled queue waits: on a loaded 2-core machine a read takes 10-40 s.
const BOUND = { timeout: 120_000 };

describe('history defects, read back from a quiet room', () => {
  it('the shipped endpoint passes: 7 rows in pages of 3, in order, none missing', BOUND, async () => {
    const r = await quietRead({});
    expect(r['history-pages']).toMatchObject({ valid: true, details: { pages: 3, owedRows: 7 } });
    expect(r.convergence!.valid).toBe(true);
  });

  it('a first page without the newest row: a gap, and a joiner whose view lacks it', BOUND, async () => {
    const r = await quietRead({ historyDropsNewest: true });
    expect(r['history-pages']).toMatchObject({ valid: false, details: { gaps: 1 } });
    expect(r.convergence!.valid).toBe(false);
  });

  it('pages oldest first: out of order', BOUND, async () => {
    const r = await quietRead({ historyOldestFirst: true });
    expect(r['history-pages']).toMatchObject({ valid: false, details: { gaps: 0, overlaps: 0 } });
    expect(r['history-pages']!.details.misordered).toBeGreaterThan(0);
  });

  it('a cursor one row short: pages overlap', BOUND, async () => {
    const r = await quietRead({ historyOverlap: true });
    expect(r['history-pages']).toMatchObject({ valid: false, details: { gaps: 0, misordered: 0 } });
    expect(r['history-pages']!.details.overlaps).toBeGreaterThan(0);
  });
});
