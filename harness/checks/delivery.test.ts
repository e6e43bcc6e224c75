import { describe, expect, it } from 'vitest';
import { cloneRun } from '../history/simulate.ts';
import type { ReceiveEvent } from '../history/types.ts';
import { analyzeDelivery, deliveryChecker } from './delivery.ts';
import { cleanRun, insertEvent, receivesOf, removeEvents } from './testing.ts';

const check = deliveryChecker({ detachGraceMs: 2 });

describe('delivery', () => {
  it('passes a clean run, owing late joiners nothing from before their subscribe', () => {
    const run = cleanRun();
    const r = check(run.history, run.final);
    expect(r.valid).toBe(true);
    expect(r.details).toMatchObject({ lost: 0, duplicated: 0, phantom: 0, mismatched: 0 });
    const a = analyzeDelivery(run.history, run.final, { detachGraceMs: 2 });
    expect(a.owed).toBe(a.delivered);
    // c joined at 50: of lobby's changes it is owed only those committed after (m1 v4, m5, m2 v2).
    expect(receivesOf(run, (x) => x.client === 'c').map((x) => `${x.messageId} v${x.version}`)).toEqual(['m1 v4', 'm5 v1', 'm2 v2']);
  });

  it('catches a lost event and reports when it was owed', () => {
    const run = cleanRun();
    const victim = receivesOf(run, (x) => x.client === 'b' && x.messageId === 'm1' && x.version === 2)[0]!;
    const bad = removeEvents(run, (e) => e.type === 'receive' && e.client === 'b' && e.eventId === victim.eventId);
    const r = check(bad.history, bad.final);
    expect(r.valid).toBe(false);
    expect(r.details.lost).toBe(1);
    expect(r.details.lostExamples).toEqual([{ client: 'b', room: 'lobby', change: 'm1 v2', at: victim.commitT }]);
    expect(r.failedAt).toBe(victim.commitT);
  });

  it('counts a change nobody received as lost for everyone attached throughout its window', () => {
    const run = cleanRun();
    const bad = removeEvents(run, (e) => e.type === 'receive' && e.messageId === 'm1' && e.version === 3);
    const a = analyzeDelivery(bad.history, bad.final, { detachGraceMs: 2 });
    // m1 v3 committed somewhere between v2 (25) and v4 (65): a, b and d (left at 80) were attached
    // throughout; c joined at 50, inside the window, so it may legitimately have missed it.
    expect(a.lost.map((l) => `${l.client} ${l.change}`).sort()).toEqual(['a m1 v3', 'b m1 v3', 'd m1 v3']);
  });

  it('does not owe a detaching subscriber what was committed within the detach grace', () => {
    const run = cleanRun();
    const bad = removeEvents(run, (e) => e.type === 'receive' && e.client === 'd' && e.messageId === 'm4');
    expect(check(bad.history, bad.final).valid).toBe(false);
    expect(deliveryChecker({ detachGraceMs: 1000 })(bad.history, bad.final).valid).toBe(true);
  });

  it('does not owe a subscriber that left before the change was published, however long after its commit', () => {
    const run = cleanRun();
    // d left at 80; m4's commit is well before that, but say the connector was down and published
    // it only at 85 (every other receipt says so): d could not have received it.
    const late = (e: (typeof run.history)[number]) => e.type === 'receive' && e.messageId === 'm4';
    const gone = removeEvents(run, (e) => late(e) && e.type === 'receive' && e.client === 'd');
    const republished = { ...gone, history: gone.history.map((e) => (late(e) && e.type === 'receive' ? { ...e, publishT: 85, t: Math.max(e.t, 86) } : e)) };
    expect(check(republished.history, republished.final).valid).toBe(true);
    // Published while d was still there, it is owed and lost.
    expect(check(gone.history, gone.final).valid).toBe(false);
  });

  it('catches a duplicate (the same event id twice at one client)', () => {
    const run = cleanRun();
    const r0 = receivesOf(run, (x) => x.client === 'a' && x.messageId === 'm2')[0]!;
    const bad = insertEvent(run, { ...r0, t: r0.t + 3, applied: false });
    const r = check(bad.history, bad.final);
    expect(r.valid).toBe(false);
    expect(r.details).toMatchObject({ duplicated: 1, lost: 0 });
    expect(r.failedAt).toBe(r0.t + 3);
  });

  it('catches phantoms: an unknown row, a version above the final one, a wrong room', () => {
    const run = cleanRun();
    const base = receivesOf(run, (x) => x.client === 'a' && x.messageId === 'm2')[0]!;
    const ghost: ReceiveEvent = { ...base, eventId: 'ghost', messageId: 'nope', t: 100 };
    const future: ReceiveEvent = { ...base, eventId: 'future', name: 'UPDATE', version: 9, t: 101 };
    const elsewhere: ReceiveEvent = { ...base, eventId: 'elsewhere', client: 'x', room: 'den', t: 102 };
    let bad = insertEvent(run, ghost);
    bad = insertEvent(bad, future);
    bad = insertEvent(bad, elsewhere);
    const a = analyzeDelivery(bad.history, bad.final, { detachGraceMs: 2 });
    expect(a.phantoms.map((p) => p.reason)).toEqual([
      'no such row was committed',
      'version above the final version 2',
      'received in room den, row belongs to lobby',
    ]);
    expect(check(bad.history, bad.final)).toMatchObject({ valid: false, failedAt: 100 });
  });

  it('catches a receipt of the final version whose content differs from the database', () => {
    const run = cleanRun();
    const bad = cloneRun(run);
    const r = bad.history.find((e): e is ReceiveEvent => e.type === 'receive' && e.client === 'b' && e.messageId === 'm1' && e.version === 4)!;
    r.text = 'edit e2';
    expect(check(bad.history, bad.final)).toMatchObject({ valid: false, details: { mismatched: 1 } });
  });
});
