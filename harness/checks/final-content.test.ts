import { describe, expect, it } from 'vitest';
import { cloneRun, simulate } from '../history/simulate.ts';
import type { HistoryEvent } from '../history/types.ts';
import { finalContentChecker } from './final-content.ts';
import { cleanRun } from './testing.ts';

const check = finalContentChecker();
const row = (run: ReturnType<typeof cleanRun>, id: string) => run.final.rows.find((r) => r.id === id)!;

describe('final-content', () => {
  it('passes a clean run, where each row ends on its author\'s last edit', () => {
    const run = cleanRun();
    expect(check(run.history, run.final)).toMatchObject({ valid: true, details: { wrong: 0 } });
  });

  it('catches a row left on an older edit because the older edit arrived last', () => {
    const run = cloneRun(cleanRun());
    row(run, 'm1').text = 'edit e2';
    const r = check(run.history, run.final);
    expect(r).toMatchObject({ valid: false, details: { wrong: 1, wrongExamples: [{ messageId: 'm1', expected: ['edit e3'], actual: 'edit e2' }] } });
  });

  it('catches a row put back to its post\'s text after edits, at any version', () => {
    const run = cloneRun(cleanRun());
    row(run, 'm2').text = 'post m2';
    expect(check(run.history, run.final)).toMatchObject({ valid: false, details: { wrong: 1 } });
  });

  it('catches an acknowledged delete by the author that did not take effect, and a delete nobody sent', () => {
    const run = cloneRun(cleanRun());
    row(run, 'm4').deleted = false;
    row(run, 'm3').deleted = true;
    expect(check(run.history, run.final)).toMatchObject({ valid: false, details: { wrong: 2 } });
  });

  it('ignores a foreign edit the writer refused, and accepts the text of a later edit whose publish failed', () => {
    const run = simulate({
      clients: [{ id: 'a', room: 'r' }, { id: 'b', room: 'r' }],
      ops: [
        { t: 10, op: 'post', client: 'a', id: 'p' },
        { t: 20, op: 'edit', client: 'a', target: 'p', id: 'e1' },
        { t: 30, op: 'edit', client: 'b', target: 'p', id: 'forged' },
        { t: 40, op: 'edit', client: 'a', target: 'p', id: 'e2', fail: 'timeout' },
      ],
    });
    expect(check(run.history, run.final)).toMatchObject({ valid: true });
    // The timed-out edit may have reached the writer after all.
    const applied = cloneRun(run);
    applied.final.rows[0]!.text = 'edit e2';
    expect(check(applied.history, applied.final)).toMatchObject({ valid: true });
  });

  it('says unknown, not wrong, while the write path was still busy', () => {
    const run = cloneRun(cleanRun());
    row(run, 'm1').text = 'edit e2';
    const settle: HistoryEvent = { type: 'settle', t: run.history.at(-1)!.t, settled: false, waiting: ['lambda'] };
    run.history.splice(run.history.length - 1, 0, settle);
    expect(check(run.history, run.final)).toMatchObject({ valid: 'unknown' });
  });
});
