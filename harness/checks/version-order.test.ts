import { describe, expect, it } from 'vitest';
import { cloneRun } from '../history/simulate.ts';
import type { ReceiveEvent } from '../history/types.ts';
import { analyzeVersionOrder, versionOrderChecker } from './version-order.ts';
import { cleanRun } from './testing.ts';

const check = versionOrderChecker();

/** Makes client a receive m1 v3 before v2 (the connector published them out of order). */
function reorder(appliesStale: boolean) {
  const run = cloneRun(cleanRun());
  const isA = (e: (typeof run.history)[number], v: number): e is ReceiveEvent =>
    e.type === 'receive' && e.client === 'a' && e.messageId === 'm1' && e.version === v;
  const i2 = run.history.findIndex((e) => isA(e, 2));
  const i3 = run.history.findIndex((e) => isA(e, 3));
  const v2 = run.history[i2] as ReceiveEvent;
  const v3 = run.history[i3] as ReceiveEvent;
  [v2.t, v3.t] = [v3.t, v2.t];
  run.history[i2] = v3;
  run.history[i3] = v2;
  v3.applied = true;
  v2.applied = appliesStale;
  return { run, staleT: v2.t };
}

describe('version-order', () => {
  it('passes a clean run', () => {
    const run = cleanRun();
    expect(check(run.history, run.final)).toMatchObject({ valid: true, details: { staleApplies: 0, outOfOrderReceipts: 0 } });
  });

  it('counts an out-of-order receipt that the client ignored as information only', () => {
    const { run } = reorder(false);
    expect(check(run.history, run.final)).toMatchObject({ valid: true, details: { staleApplies: 0, outOfOrderReceipts: 1 } });
  });

  it('catches a client applying version 2 after version 3 (a view without version checks)', () => {
    const { run, staleT } = reorder(true);
    const r = check(run.history, run.final);
    expect(r).toMatchObject({ valid: false, failedAt: staleT, details: { staleApplies: 1, outOfOrderReceipts: 1 } });
    expect(analyzeVersionOrder(run.history, run.final).staleApplies[0]).toMatchObject({ client: 'a', messageId: 'm1', applied: 2, after: 3 });
  });

  it('treats an UPDATE applied after a hard DELETE of the same version as stale', () => {
    const run = cloneRun(cleanRun());
    const v4 = run.history.find((e): e is ReceiveEvent => e.type === 'receive' && e.client === 'a' && e.messageId === 'm1' && e.version === 4)!;
    run.history.splice(run.history.indexOf(v4), 0, { ...v4, name: 'DELETE', eventId: 'hard', t: v4.t - 0.001 });
    expect(check(run.history, run.final).valid).toBe(false);
  });
});
