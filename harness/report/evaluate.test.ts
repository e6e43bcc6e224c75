import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanRun, removeEvents } from '../checks/testing.ts';
import { writeFinalState } from '../history/writer.ts';
import { evaluateRun, recheckRunDir } from './evaluate.ts';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

const checkerOptions = { delivery: { detachGraceMs: 2 } };

describe('evaluateRun', () => {
  it('checks, measures and judges thresholds in one call', () => {
    const run = cleanRun();
    const r = evaluateRun({ ...run, checkerOptions, thresholds: { e2e_latency: ['p(99)<50'], lost: ['count==0'] }, environment: { here: true } });
    expect(r).toMatchObject({ scenario: 'sim', passed: true, exitCode: 0, environment: { here: true } });
    expect(r.thresholds).toEqual([
      { metric: 'e2e_latency', expr: 'p(99)<50', value: 7.05, passed: true },
      { metric: 'lost', expr: 'count==0', value: 0, passed: true },
    ]);
  });

  it('exits 99 when only a threshold fails, 1 when a checker fails', () => {
    const run = cleanRun();
    expect(evaluateRun({ ...run, checkerOptions, thresholds: { e2e_latency: ['p(99)<5'] }, environment: {} }).exitCode).toBe(99);
    const lossy = removeEvents(run, (e) => e.type === 'receive' && e.client === 'b' && e.messageId === 'm2');
    expect(evaluateRun({ ...lossy, checkerOptions, thresholds: { e2e_latency: ['p(99)<5'] }, environment: {} }).exitCode).toBe(1);
  });

  it('rejects a bad threshold before checking anything', () => {
    expect(() => evaluateRun({ ...cleanRun(), thresholds: { e2e_latency: ['fast'] } })).toThrow(/threshold e2e_latency: "fast"/);
  });
});

describe('recheckRunDir', () => {
  it('re-judges a saved run with the thresholds and environment of its report, or new thresholds', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'recheck-'));
    dirs.push(dir);
    const run = removeEvents(cleanRun(), (e) => e.type === 'receive' && e.client === 'a' && e.messageId === 'm5');
    await writeFile(join(dir, 'history.ndjson'), run.history.map((e) => JSON.stringify(e)).join('\n') + '\n');
    await writeFinalState(join(dir, 'final-state.json'), run.final);

    const first = await recheckRunDir(dir, { thresholds: { lost: ['count==0'] }, checkerOptions });
    expect(first).toMatchObject({ exitCode: 1, thresholds: [{ metric: 'lost', value: 1, passed: false }] });
    const saved = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')) as { environment: Record<string, unknown> };
    saved.environment = { machine: 'the run machine' };
    await writeFile(join(dir, 'report.json'), JSON.stringify(saved));

    const again = await recheckRunDir(dir, { checkerOptions });
    expect(again.thresholds).toEqual(first.thresholds);
    expect(again.environment).toEqual({ machine: 'the run machine' });
    expect(await readFile(join(dir, 'report.md'), 'utf8')).toContain('❌ sim: failed');

    const loose = await recheckRunDir(dir, { thresholds: { lost: ['count<=1'] }, write: false, checkerOptions });
    expect(loose.thresholds[0]).toMatchObject({ passed: true });
    expect(JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')).thresholds[0].expr).toBe('count==0');
  });
});
