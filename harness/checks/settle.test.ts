import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../history/types.ts';
import type { SimRun } from '../history/simulate.ts';
import { acknowledgedWritesChecker } from './acknowledged-writes.ts';
import { convergenceChecker } from './convergence.ts';
import { deliveryChecker } from './delivery.ts';
import { runCheckers } from './index.ts';
import { computeMetrics } from './metrics.ts';
import { cleanRun, insertEvent, receivesOf, removeEvents, viewOf } from './testing.ts';

const delivery = deliveryChecker({ detachGraceMs: 2 });
const convergence = convergenceChecker();
const ackedWrites = acknowledgedWritesChecker();

/** The settle event the runner writes after the quiet period, placed before the final views. */
function settled(run: SimRun, settledOk: boolean, waiting: string[]): SimRun {
  const firstView = run.history.find((e) => e.type === 'view');
  const e: HistoryEvent = { type: 'settle', t: (firstView?.t ?? 1000) - 0.5, settled: settledOk, waiting };
  return insertEvent(run, e);
}

/** b never received m5, and its final view lacks it: what a stuck connector backlog looks like. */
function m5NotDeliveredToB(): SimRun {
  const run = removeEvents(cleanRun(), (e) => e.type === 'receive' && e.client === 'b' && e.messageId === 'm5');
  viewOf(run, 'b').rows = viewOf(run, 'b').rows.filter((r) => r.id !== 'm5');
  return run;
}

describe('a run that did not settle', () => {
  it('makes a missing delivery and a lagging view "unknown", naming what was still busy', () => {
    const run = settled(m5NotDeliveredToB(), false, ['connector backlog']);
    const d = delivery(run.history, run.final);
    expect(d.valid).toBe('unknown');
    // Not called lost: undelivered, with what was still busy.
    expect(d.details).toMatchObject({ lost: 0, undelivered: 1, waiting: ['connector backlog'] });
    expect(d.details.undeliveredExamples).toEqual([expect.objectContaining({ client: 'b', change: expect.stringContaining('m5') })]);
    expect(computeMetrics(run.history, run.final).lost).toMatchObject({ count: 0 });
    expect(String(d.details.unknownBecause)).toMatch(/connector backlog/);
    const c = convergence(run.history, run.final);
    expect(c.valid).toBe('unknown');
    expect(c.details).toMatchObject({ waiting: ['connector backlog'] });
    // runCheckers keeps the verdict (it is not turned into a pass).
    expect(runCheckers(run.history, run.final, { only: ['delivery', 'convergence'] }).map((r) => r.valid)).toEqual(['unknown', 'unknown']);
  });

  it('makes an acknowledged write missing from the database "unknown" only while the write path was busy', () => {
    const base = removeEvents(cleanRun(), (e) => e.type === 'receive' && e.messageId === 'm5');
    base.final.rows = base.final.rows.filter((r) => r.id !== 'm5');
    const writerBusy = settled(base, false, ['lambda']);
    expect(ackedWrites(writerBusy.history, writerBusy.final)).toMatchObject({ valid: 'unknown', details: { missing: 1, waiting: ['lambda'] } });
    // A connector backlog cannot keep a write out of the database: still a failure.
    const connectorBusy = settled(base, false, ['connector backlog']);
    expect(ackedWrites(connectorBusy.history, connectorBusy.final).valid).toBe(false);
  });

  it('still fails what being late cannot explain: a duplicate, and a view ahead of the database', () => {
    const dup = cleanRun();
    const r0 = receivesOf(dup, (x) => x.client === 'a' && x.messageId === 'm2')[0]!;
    const withDup = settled(insertEvent(m5NotDeliveredToB(), { ...r0, t: r0.t + 3, applied: false }), false, ['client deliveries']);
    expect(delivery(withDup.history, withDup.final).valid).toBe(false);

    const ahead = settled(cleanRun(), false, ['connector backlog']);
    viewOf(ahead, 'x').rows.push({ id: 'zz', text: 'ghost', version: 1, deleted: false, author: 'x' });
    expect(convergence(ahead.history, ahead.final).valid).toBe(false);
  });
});

describe('a run that settled', () => {
  it('calls a missing delivery lost and a lagging view not converged', () => {
    const run = settled(m5NotDeliveredToB(), true, []);
    const d = delivery(run.history, run.final);
    expect(d).toMatchObject({ valid: false, details: { lost: 1 } });
    expect(d.details.waiting).toBeUndefined();
    expect(computeMetrics(run.history, run.final).lost).toMatchObject({ count: 1 });
    expect(convergence(run.history, run.final).valid).toBe(false);
  });

  it('passes a clean run', () => {
    const run = settled(cleanRun(), true, []);
    expect(delivery(run.history, run.final).valid).toBe(true);
    expect(convergence(run.history, run.final).valid).toBe(true);
    expect(ackedWrites(run.history, run.final).valid).toBe(true);
  });
});
