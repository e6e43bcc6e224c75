import { describe, expect, it } from 'vitest';
import { cloneRun } from '../history/simulate.ts';
import { versionContentChecker } from './version-content.ts';
import { cleanRun, receivesOf, viewOf } from './testing.ts';

const check = versionContentChecker();

describe('version-content', () => {
  it('passes a clean run', () => {
    const run = cleanRun();
    expect(check(run.history, run.final)).toMatchObject({ valid: true, details: { conflicts: 0 } });
  });

  it('catches a row whose text changed back without a new version (a redelivered post)', () => {
    const run = cloneRun(cleanRun());
    const m2 = run.final.rows.find((r) => r.id === 'm2')!;
    m2.text = 'post m2';
    const r = check(run.history, run.final);
    expect(r).toMatchObject({ valid: false, details: { conflicts: 1, conflictExamples: [{ messageId: 'm2', version: 2, second: { where: 'database', text: 'post m2' } }] } });
  });

  it('catches two receipts of one version with different texts', () => {
    const run = cloneRun(cleanRun());
    receivesOf(run, (r) => r.client === 'b' && r.messageId === 'm1' && r.version === 2)[0]!.text = 'something else';
    expect(check(run.history, run.final)).toMatchObject({ valid: false, details: { conflicts: 1 } });
  });

  it('catches a view holding a version with another text, and ignores a tombstone\'s text', () => {
    const run = cloneRun(cleanRun());
    viewOf(run, 'a').rows.find((r) => r.id === 'm1')!.text = 'stale';
    expect(check(run.history, run.final)).toMatchObject({ valid: false, details: { conflicts: 1 } });
    const tomb = cloneRun(cleanRun());
    for (const r of receivesOf(tomb, (x) => x.messageId === 'm4' && x.deleted)) r.text = '';
    expect(check(tomb.history, tomb.final)).toMatchObject({ valid: true });
  });
});
