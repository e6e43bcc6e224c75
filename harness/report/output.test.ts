import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCheckers } from '../checks/index.ts';
import { cleanRun, removeEvents } from '../checks/testing.ts';
import { buildReport } from './build.ts';
import { collectEnvironment } from './environment.ts';
import { toMarkdown } from './markdown.ts';
import { formatSummary } from './summary.ts';
import { readReport, writeReport } from './write.ts';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

function failingReport() {
  const run = removeEvents(cleanRun(), (e) => e.type === 'receive' && e.client === 'a' && e.messageId === 'm5');
  const checks = runCheckers(run.history, run.final, { delivery: { detachGraceMs: 2 } });
  return buildReport({
    scenario: 'edit-storm', history: run.history, final: run.final, checks,
    thresholds: [{ metric: 'e2e_latency', expr: 'p(99)<5', value: 7.05, passed: false }, { metric: 'lost', expr: 'count==0', value: 1, passed: false }],
    environment: collectEnvironment({ seedNote: 'x' }),
  });
}

describe('report.md', () => {
  it('states the verdict and has the checks, thresholds, latency and counts tables', () => {
    const md = toMarkdown(failingReport());
    expect(md.split('\n')[0]).toBe('# ❌ edit-storm: failed');
    expect(md).toContain('FAILED: delivery INVALID, threshold e2e_latency p(99)<5, threshold lost count==0');
    expect(md).toContain('| delivery | ❌ INVALID |');
    expect(md).toContain('| e2e_latency | `p(99)<5` | 7.05 | ❌ failed |');
    expect(md).toMatch(/\| end to end \(publish -> receipt\) \| 32 \| 7\.01 \|/);
    expect(md).toContain('| 13 | 11 | 32 | 1 | 0 | 0 | 1 | 1 | 0 |');
    for (const h of ['## Checks', '## Thresholds', '## Latency (ms)', '## Counts and throughput', '## Environment']) expect(md).toContain(h);
  });
});

describe('formatSummary', () => {
  it('prints aligned plain-text tables', () => {
    const text = formatSummary(failingReport(), { runDir: '/tmp/run' });
    expect(text).not.toMatch(/\|/);
    const lines = text.split('\n');
    expect(lines[0]).toBe('edit-storm: FAILED: delivery INVALID, threshold e2e_latency p(99)<5, threshold lost count==0');
    // In the latency table, every number column ends at the same position as its header.
    const start = lines.findIndex((l) => l.startsWith('latency (ms)'));
    const header = lines[start]!;
    const rule = lines[start + 1]!;
    expect(rule).toMatch(/^-+( +-+)+$/);
    const ends = [...rule.matchAll(/-+/g)].map((m) => m.index! + m[0].length);
    for (const row of lines.slice(start + 2, start + 8)) {
      expect(row.length).toBe(ends.at(-1));
      for (const end of ends.slice(1)) expect(row[end - 1]).toMatch(/[0-9-]/);
    }
    expect(header.length).toBe(ends.at(-1));
    expect(text).toContain('run directory: /tmp/run');
    expect(text).toMatch(/delivery +INVALID +\d/);
  });
});

describe('writeReport / readReport', () => {
  it('writes report.json and report.md, and reads report.json back', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'report-'));
    dirs.push(dir);
    const report = failingReport();
    const out = await writeReport(join(dir, 'nested'), report);
    expect(await readFile(out.markdown, 'utf8')).toBe(toMarkdown(report));
    const back = await readReport(out.json);
    expect(back).toEqual(JSON.parse(JSON.stringify(report)));
    const broken = { ...JSON.parse(await readFile(out.json, 'utf8')), latency: { p: {} } };
    await writeFile(out.json, JSON.stringify(broken));
    await expect(readReport(out.json)).rejects.toThrow(/field 'latency\.p\.count'/);
    await writeFile(out.json, JSON.stringify({ ...broken, latency: {} }));
    await expect(readReport(out.json)).rejects.toThrow(/field 'latency': expected an e2e stage/);
  });

  it('describes the machine and versions', () => {
    const env = collectEnvironment({ seed: 3 });
    expect(env).toMatchObject({ node: process.versions.node, seed: 3, versions: { ably: '2.28.0' } });
    expect((env.machine as { cpus: number }).cpus).toBeGreaterThan(0);
  });
});

describe("the generator's own cost", () => {
  it('says where the users ran, which reader client, and CPU per delivery, in report.json, the summary and report.md', () => {
    const run = cleanRun();
    const end = run.history.at(-1)!;
    const history = [
      ...run.history.slice(0, -1),
      { type: 'health' as const, t: 1, eventLoopDelayP99Ms: 80, cpuPercent: 40, thread: 'worker-1' },
      { type: 'generator' as const, t: end.t, workers: 2, readerClient: 'light' as const, windowMs: 1000, processCpuUs: 50_000, threads: [{ thread: 'main', busyUs: 10_000, users: 0 }, { thread: 'worker-0', busyUs: 20_000, users: 3 }, { thread: 'worker-1', busyUs: 20_000, users: 3 }] },
      end,
    ];
    const r = buildReport({ scenario: 'edit-storm', history, final: run.final, checks: runCheckers(history, run.final) });
    expect(r.generator).toMatchObject({ workers: 2, readerClient: 'light', saturated: true });
    expect(r.generator.perWorker).toHaveLength(3);
    const summary = formatSummary(r);
    expect(summary).toMatch(/SATURATED \(latencies not trustworthy\) in worker-1/);
    expect(summary).toMatch(/users in 2 worker threads, light readers; [\d.]+ µs CPU per delivery/);
    expect(toMarkdown(r)).toMatch(/light readers/);
  });
});
