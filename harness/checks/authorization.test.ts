import { describe, expect, it } from 'vitest';
import { cloneRun } from '../history/simulate.ts';
import { acknowledgedWritesChecker } from './acknowledged-writes.ts';
import { authorizationChecker } from './authorization.ts';
import { cleanRun } from './testing.ts';

const check = authorizationChecker();

describe('author-check', () => {
  it('passes a clean run in which a forged edit was refused', () => {
    const run = cleanRun();
    expect(check(run.history, run.final)).toMatchObject({ valid: true, details: { violations: 0 } });
  });

  it("catches another user's edit applied by a chat-writer without the author check", () => {
    const run = cloneRun(cleanRun());
    run.final.rejections = [];
    const m1 = run.final.rows.find((r) => r.id === 'm1')!;
    m1.text = 'edit forged';
    m1.version = 5;
    // The write path looks healthy to acknowledged-writes: the edit is in the database.
    expect(acknowledgedWritesChecker()(run.history, run.final).valid).toBe(true);
    const r = check(run.history, run.final);
    expect(r).toMatchObject({ valid: false, failedAt: 64 });
    expect(r.details.violationExamples).toEqual([expect.objectContaining({ opId: 'forged', client: 'b', author: 'a' })]);
  });

  it('catches a row whose author is not its publisher, and a delete by someone else', () => {
    const run = cloneRun(cleanRun());
    run.final.rows.find((r) => r.id === 'm5')!.author = 'a';
    run.history.push({ type: 'invoke', t: 150, opId: 'd9', op: 'delete', client: 'b', room: 'lobby', messageId: 'm1' });
    run.final.rows.find((r) => r.id === 'm1')!.deleted = true;
    const r = check(run.history, run.final);
    expect(r.details.violations).toBe(2);
  });
});
