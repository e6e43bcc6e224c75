import { describe, expect, it } from 'vitest';
import { cloneRun } from '../history/simulate.ts';
import { acknowledgedWritesChecker, analyzeAcknowledgedWrites } from './acknowledged-writes.ts';
import { cleanRun, insertEvent, removeEvents } from './testing.ts';

const check = acknowledgedWritesChecker();

describe('acknowledged-writes', () => {
  it('passes a clean run, with the refused edit accounted for by its rejection', () => {
    const run = cleanRun();
    expect(check(run.history, run.final)).toMatchObject({
      valid: true,
      details: { acked: 12, committed: 11, rejected: 1, failed: 1, missing: 0, rejectionReasons: { 'not the author': 1 } },
    });
  });

  it('catches an acknowledged post that never reached the database (batch of one handled)', () => {
    const run = removeEvents(cleanRun(), (e) => e.type === 'receive' && e.messageId === 'm5');
    run.final.rows = run.final.rows.filter((r) => r.id !== 'm5');
    const r = check(run.history, run.final);
    expect(r).toMatchObject({ valid: false, failedAt: 72, details: { missing: 1 } });
    expect(analyzeAcknowledgedWrites(run.history, run.final).missing[0]).toMatchObject({ opId: 'm5', problem: 'no row with this id and no rejection' });
  });

  it('names the envelope the integration dropped after its retries, and states the cause in one line', () => {
    const run = removeEvents(cleanRun(), (e) => e.type === 'receive' && e.messageId === 'm5');
    run.final.rows = run.final.rows.filter((r) => r.id !== 'm5');
    const dropped = { type: 'invocation' as const, t: 80, invocationId: 'i1', envelopeId: 'env-1', channel: 'chat:r1:outgoing', messageIds: ['m5'], phase: 'dropped' as const, attempt: 3, duplicate: false, error: 'Error: connect ECONNREFUSED' };
    run.history.push(dropped);
    const r = check(run.history, run.final);
    expect(r).toMatchObject({
      valid: false,
      details: { missing: 1, droppedEnvelopes: [{ envelopeId: 'env-1', channel: 'chat:r1:outgoing', attempts: 3, error: 'Error: connect ECONNREFUSED', missingWrites: ['m5'] }] },
    });
    expect(r.details.cause).toMatch(/^1 of 1 missing acknowledged writes were in 1 envelopes the integration dropped after 3 failed attempts .*ECONNREFUSED.*longer than the retries last/);
    expect(String(r.details.cause)).not.toContain('\n');
  });

  it('counts an edit and a delete of a post that was never acknowledged nor written as held, not missing', () => {
    // x guessed the id of y's post m6, whose publish then failed: the writer holds both for a post that never comes.
    let run = insertEvent(cleanRun(), { t: 74, type: 'invoke', opId: 'h1', op: 'edit', client: 'x', room: 'den', messageId: 'm6', text: 'hijacked h1' });
    run = insertEvent(run, { t: 74.5, type: 'invoke', opId: 'h2', op: 'delete', client: 'x', room: 'den', messageId: 'm6' });
    run = insertEvent(run, { t: 76, type: 'ack', opId: 'h1' });
    run = insertEvent(run, { t: 76.5, type: 'ack', opId: 'h2' });
    expect(check(run.history, run.final)).toMatchObject({ valid: true, details: { missing: 0, heldForAbsentPost: 2 } });
  });

  it('still catches an edit of an acknowledged post that never reached the database', () => {
    let run = removeEvents(cleanRun(), (e) => e.type === 'receive' && e.messageId === 'm5');
    run.final.rows = run.final.rows.filter((r) => r.id !== 'm5');
    run = insertEvent(run, { t: 74, type: 'invoke', opId: 'h1', op: 'edit', client: 'c', room: 'lobby', messageId: 'm5', text: 'edit h1' });
    run = insertEvent(run, { t: 76, type: 'ack', opId: 'h1' });
    expect(analyzeAcknowledgedWrites(run.history, run.final).missing.map((m) => m.opId)).toEqual(['m5', 'h1']);
  });

  it('catches an acknowledged edit whose text no version ever carried', () => {
    const run = cloneRun(cleanRun());
    for (const e of run.history) if (e.type === 'receive' && e.text === 'edit e4') e.text = 'edit e9';
    run.final.rows.find((r) => r.id === 'm3')!.text = 'edit e9';
    expect(analyzeAcknowledgedWrites(run.history, run.final).missing.map((m) => m.opId)).toEqual(['e4']);
  });

  it('accepts an edit applied after a newer one: its version kept the newer text (last writer by publish time)', () => {
    const run = cloneRun(cleanRun());
    // e2 reached the writer late (a retry): its version of m1 kept e1's text.
    for (const e of run.history) if (e.type === 'receive' && e.text === 'edit e2') e.text = 'edit e1';
    expect(analyzeAcknowledgedWrites(run.history, run.final)).toMatchObject({ missing: [], unwitnessed: 1 });
  });

  it('accepts an edit that was overwritten later, because a receipt showed its text', () => {
    const run = cleanRun();
    expect(run.final.rows.find((r) => r.id === 'm1')!.text).toBe('edit e3');
    expect(analyzeAcknowledgedWrites(run.history, run.final).missing).toEqual([]);
  });

  it('catches a refusal that left no rejection, and a delete that did not delete', () => {
    const run = cloneRun(cleanRun());
    run.final.rejections = [];
    run.final.rows.find((r) => r.id === 'm4')!.deleted = false;
    const missing = analyzeAcknowledgedWrites(run.history, run.final).missing.map((m) => `${m.opId}: ${m.problem}`);
    expect(missing).toEqual(['d1: row not deleted and no rejection', 'forged: no version ever carried its text and no rejection (1 such edits, 0 versions of the row unaccounted for)']);
  });

  it('accepts an edit overwritten before anyone saw it when the row has an unseen version for it', () => {
    // Nobody saw m1 v3 (edit e2): the version count still proves an update committed.
    const run = removeEvents(cleanRun(), (e) => e.type === 'receive' && e.messageId === 'm1' && e.version === 3);
    expect(analyzeAcknowledgedWrites(run.history, run.final)).toMatchObject({ missing: [], unwitnessed: 1 });
    // Without that version, the unseen edit has no place in the row's history: it was dropped.
    const fewer = cloneRun(run);
    fewer.final.rows.find((r) => r.id === 'm1')!.version = 3;
    for (const e of fewer.history) if (e.type === 'receive' && e.messageId === 'm1' && e.version === 4) e.version = 3;
    expect(analyzeAcknowledgedWrites(fewer.history, fewer.final).missing.map((m) => m.opId)).toEqual(['e2']);
  });

  it('owes nothing for failed operations and reports operations still pending', () => {
    const run = removeEvents(cleanRun(), (e) => e.type === 'ack' && e.opId === 'e5');
    const a = analyzeAcknowledgedWrites(run.history, run.final);
    expect(a).toMatchObject({ failed: 1, pending: 1, committedWithoutAck: 1, missing: [] });
  });
});
