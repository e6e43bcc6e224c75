import { describe, expect, it } from 'vitest';
import { cloneRun } from '../history/simulate.ts';
import { analyzeConvergence, convergenceChecker } from './convergence.ts';
import { cleanRun, removeEvents, viewOf } from './testing.ts';

const check = convergenceChecker();

describe('convergence', () => {
  it('passes a clean run: tombstones where the client saw the delete, nothing where it joined later', () => {
    const run = cleanRun();
    expect(viewOf(run, 'a').rows.find((r) => r.id === 'm4')).toMatchObject({ deleted: true, version: 2 });
    expect(viewOf(run, 'c').rows.find((r) => r.id === 'm4')).toBeUndefined();
    expect(check(run.history, run.final)).toMatchObject({ valid: true, details: { viewsCompared: 5, divergences: 0 } });
  });

  it('catches a view that kept an overwritten edit', () => {
    const run = cloneRun(cleanRun());
    const row = viewOf(run, 'b').rows.find((r) => r.id === 'm1')!;
    row.text = 'edit e2';
    row.version = 3;
    const r = check(run.history, run.final);
    expect(r.valid).toBe(false);
    expect(analyzeConvergence(run.history, run.final).divergences).toEqual([
      expect.objectContaining({ client: 'b', messageId: 'm1', problem: 'version 3 in the view, 4 in the database' }),
    ]);
    expect(r.failedAt).toBe(viewOf(run, 'b').t);
  });

  it('catches a missing live row, an extra row, a resurrected row and a duplicated id', () => {
    const run = cloneRun(cleanRun());
    viewOf(run, 'a').rows = viewOf(run, 'a').rows.filter((r) => r.id !== 'm5');
    viewOf(run, 'x').rows.push({ id: 'zz', text: 'ghost', version: 1, deleted: false, author: 'x' });
    viewOf(run, 'b').rows.find((r) => r.id === 'm4')!.deleted = false;
    viewOf(run, 'y').rows.push({ ...viewOf(run, 'y').rows[0]! });
    const problems = analyzeConvergence(run.history, run.final).divergences.map((d) => `${d.client} ${d.messageId}: ${d.problem}`);
    expect(problems.sort()).toEqual([
      'a m5: missing from the view (database v1)',
      'b m4: deleted false in the view, true in the database',
      'x zz: in the view, not in the database',
      'y m3: listed twice in the view',
    ]);
  });

  it('accepts a deleted row left out of a view, and ignores the text of tombstones', () => {
    const run = cloneRun(cleanRun());
    viewOf(run, 'a').rows = viewOf(run, 'a').rows.filter((r) => r.id !== 'm4');
    viewOf(run, 'b').rows.find((r) => r.id === 'm4')!.text = '';
    expect(check(run.history, run.final).valid).toBe(true);
  });

  it('is unknown, not valid, when an attached client left no view', () => {
    const run = removeEvents(cleanRun(), (e) => e.type === 'view' && e.client === 'y');
    expect(check(run.history, run.final)).toMatchObject({ valid: 'unknown', details: { missingViews: 1 } });
  });

  it('ignores a view taken after the client detached', () => {
    const run = cloneRun(cleanRun());
    const v = viewOf(run, 'a');
    run.history.splice(run.history.indexOf(v), 0, { ...v, client: 'd', rows: [] });
    expect(check(run.history, run.final)).toMatchObject({ valid: true, details: { viewsIgnored: 1 } });
  });
});
