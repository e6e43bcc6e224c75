import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCheckers } from '../checks/index.ts';
import { cleanRun, removeEvents } from '../checks/testing.ts';
import type { HistoryEvent } from '../history/types.ts';
import { buildReport } from '../report/build.ts';
import type { Report } from '../report/types.ts';
import { writeReport } from '../report/write.ts';
import { writeComparison, type ComparedRun } from './compare.ts';

const tmp = mkdtempSync(join(tmpdir(), 'compare-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The stack parts' CPU as the runner records it after the load: 11 committed changes in the simulated run. */
const partsCost = (connectorMs: number): HistoryEvent => ({
  type: 'generator', t: 100, workers: 0, readerClient: 'sdk', windowMs: 1000, processCpuUs: 0, threads: [],
  parts: [{ part: 'postgres', cpuMs: 22 }, { part: 'connector c1', cpuMs: connectorMs }, { part: 'connector c2', cpuMs: 1 }],
});

async function savedRun(label: string, loseOne: boolean, connectorMs: number): Promise<ComparedRun> {
  const base = cleanRun();
  const run = loseOne ? removeEvents(base, (e) => e.type === 'receive' && e.client === 'a' && e.messageId === 'm5') : base;
  const history = [...run.history, partsCost(connectorMs)];
  const checks = runCheckers(history, run.final, { delivery: { detachGraceMs: 2 } });
  const report = buildReport({ scenario: 'steady', history, final: run.final, checks });
  const dir = join(tmp, label);
  await writeReport(dir, report);
  return { label, dir, report };
}

describe('a comparison of connector modes', () => {
  it('goes into every compared run\'s report.json and report.md, and into report.md of its own directory, which names a mode that did not run', async () => {
    const runs = [await savedRun('notify', true, 10), await savedRun('wal', false, 4)];
    const text = await writeComparison(join(tmp, 'cmp'), runs, 'connector-mode', [{ label: 'durable', error: 'realtime: not ready after 30000 ms' }]);

    for (const r of runs) {
      const json = JSON.parse(readFileSync(join(r.dir, 'report.json'), 'utf8')) as Report;
      expect(json.comparison).toMatchObject({ axis: 'connector-mode', runs: [{ label: 'notify', passed: false }, { label: 'wal', passed: true }] });
      const row = (m: string) => json.comparison!.rows.find((x) => x.measure === m)?.values;
      expect(row('lost / duplicated (subscribers)')).toEqual(['1 / 0', '0 / 0']);
      // (22 ms of Postgres, and 10 + 1 or 4 + 1 ms over both connectors) for 11 changes.
      expect(row('Postgres CPU per change (µs)')).toEqual(['2000', '2000']);
      expect(row('connector CPU per change (µs)')).toEqual(['1000', '455']);
      expect(row('commit -> publish p50 / p99 (ms)')).toHaveLength(2);
      const md = readFileSync(join(r.dir, 'report.md'), 'utf8');
      expect(md).toContain('## Comparison of connector capture modes');
      expect(md).toMatch(/\| connector CPU per change \(µs\) \| 1000 \| 455 \|/);
      expect(md).toContain('| connector c1 |');
      const html = readFileSync(join(r.dir, 'report.html'), 'utf8');
      const section = html.slice(html.indexOf('<h2>Comparison of connector capture modes'), html.indexOf('<h2>Checks</h2>'));
      expect(section).toContain('<td>connector CPU per change (µs)</td>');
    }
    const own = readFileSync(join(tmp, 'cmp', 'report.md'), 'utf8');
    expect(own).toMatch(/\| lost \/ duplicated \(subscribers\) \| 1 \/ 0 \| 0 \/ 0 \|/);
    expect(own).toContain(`- notify: FAILED, [report](${join(tmp, 'notify', 'report.md')})`);
    // A mode whose stack did not start is named, not silently left out.
    expect(own).toContain('- durable: did not run: realtime: not ready after 30000 ms');
    expect(text).toMatch(/^Postgres CPU per change \(µs\)\s+2000\s+2000$/m);
  });

  it('leaves saved runs the user named as they were', async () => {
    const runs = [await savedRun('a', false, 1), await savedRun('b', false, 1)];
    await writeComparison(join(tmp, 'saved'), runs, 'runs');
    expect(JSON.parse(readFileSync(join(runs[0]!.dir, 'report.json'), 'utf8'))).not.toHaveProperty('comparison');
    expect(readFileSync(join(tmp, 'saved', 'report.md'), 'utf8')).toContain('writer: out of order');
  });
});
