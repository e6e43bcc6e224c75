/**
 * Converting k6 summaries (hand-written to k6's documented formats) into our report, written
 * with writeReport and read back with readReport's contract check.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readReport, writeReport } from '../report/index.ts';
import { k6SummaryToReport, thresholdValue } from './convert.ts';
import { readK6Summary } from './summary-format.ts';

const fixture = async (name: string): Promise<unknown> => JSON.parse(await readFile(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('k6 summary -> report', () => {
  it('converts the handleSummary data of a clean run into a passing report that says it came from k6', async () => {
    const s = readK6Summary(await fixture('edit-storm-handle-summary.json'));
    expect(s.format).toBe('handleSummary');
    const r = k6SummaryToReport(s, { summaryFile: 'k6-summary.json' });
    expect(r).toMatchObject({ source: 'k6', scenario: 'edit-storm', passed: true, exitCode: 0 });
    expect(r.checks).toHaveLength(1);
    expect(r.checks[0]).toMatchObject({ name: 'k6-checks', valid: true, details: { source: 'k6', harnessCheckers: 'not run: k6 keeps no history', passes: 91, fails: 0 } });
    expect(r.thresholds).toEqual([
      { metric: 'lost', expr: 'count==0', value: 0, passed: true },
      { metric: 'duplicated', expr: 'count==0', value: 0, passed: true },
      { metric: 'dropped', expr: 'count==0', value: 0, passed: true },
      { metric: 'e2e_latency', expr: 'p(99)<500', value: 171.9, passed: true },
      { metric: 'edit_propagation', expr: 'p(99)<1000', value: 180.3, passed: true },
    ]);
    expect(r.counts).toEqual({ sent: 669, committed: 657, delivered: 3942, lost: 0, duplicated: 0, outOfOrder: 2, acked: 669, failed: 0, rejected: 0, dropped: 0, pending: 0, typing: 51 });
    expect(r.latency.e2e).toEqual({ count: 3712, p50: 27, p90: 64, p99: 171.9, p999: 355.2, max: 402, min: 5, avg: 34.6 });
    expect(Object.keys(r.latency)).toEqual(['e2e', 'editPropagation', 'invokeToAck']);
    // Rates over the load window from setup_data: 669 operations in 12 s, deliveries over 17 s.
    expect(r.throughput).toEqual({ opsPerSec: 55.75, deliveriesPerSec: 231.882, loadSeconds: 12, deliverySeconds: 17 });
    expect(r.run).toEqual({ seed: 1, startedAt: new Date(1795864203117).toISOString(), durationMs: 20413 });
    expect(r.options).toMatchObject({ rate: 60, users: 4, runTag: 'q7k2m9' });
    expect(r.environment).toMatchObject({ loadGenerator: 'k6', summaryFormat: 'handleSummary', summaryFile: 'k6-summary.json' });
    expect(r.notes.join(' ')).toMatch(/checkers .* did not run/);
  });

  it('converts a --summary-export file, reading its inverted threshold flags, into a threshold failure (99)', async () => {
    const s = readK6Summary(await fixture('edit-storm-summary.json'));
    expect(s.format).toBe('summary-export');
    expect(s.metrics.checks).toEqual({ type: 'rate', values: { passes: 91, fails: 0, rate: 1 }, thresholds: {} });
    expect(s.metrics.vus!.type).toBe('gauge');
    const r = k6SummaryToReport(s);
    expect(r).toMatchObject({ scenario: 'edit-storm', passed: false, exitCode: 99 });
    expect(r.thresholds.find((t) => t.metric === 'e2e_latency')).toEqual({ metric: 'e2e_latency', expr: 'p(99)<500', value: 612.4, passed: false });
    expect(r.thresholds.filter((t) => t.passed).map((t) => t.metric)).toEqual(['lost', 'duplicated', 'dropped', 'edit_propagation']);
    expect(r.checks[0]!.valid).toBe(true);
    // No state in the legacy export: the run's length comes from a counter's count and rate.
    expect(r.run.durationMs).toBeCloseTo((3104410 / 150881.3) * 1000, -1);
    expect(r.environment.machine).toMatch(/unknown/);
  });

  it('writes report.json/md/html that pass the report contract', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'k6-report-'));
    dirs.push(dir);
    const r = k6SummaryToReport(readK6Summary(await fixture('edit-storm-summary.json')));
    const written = await writeReport(dir, r);
    const back = await readReport(written.json);
    expect(back.scenario).toBe('edit-storm');
    expect(back.latency.e2e!.p99).toBe(612.4);
    const md = await readFile(written.markdown, 'utf8');
    expect(md).toContain('FAILED: threshold e2e_latency p(99)<500');
    expect(md).toContain('harnessCheckers=not run: k6 keeps no history');
    expect(md).toContain('"loadGenerator": "k6"');
    expect(await readFile(written.html, 'utf8')).toContain('k6-checks');
  });

  it('fails the k6 checks when a session could not sign in, and is unknown when no check ran', async () => {
    const raw = (await fixture('edit-storm-handle-summary.json')) as { root_group: { checks: Array<{ name: string; passes: number; fails: number }> } };
    raw.root_group.checks[1]!.fails = 3;
    const failing = k6SummaryToReport(readK6Summary(raw));
    expect(failing).toMatchObject({ passed: false, exitCode: 1 });
    expect(failing.checks[0]).toMatchObject({ valid: false, details: { fails: 3, failing: 'signed in (POST login)' } });
    raw.root_group.checks = [];
    expect(k6SummaryToReport(readK6Summary(raw)).checks[0]!.valid).toBe('unknown');
  });

  it('refuses summaries it cannot convert faithfully, naming what is missing', async () => {
    const raw = (await fixture('edit-storm-handle-summary.json')) as { metrics: Record<string, { values: Record<string, number> }> };
    delete raw.metrics.e2e_latency!.values['p(99)'];
    expect(() => k6SummaryToReport(readK6Summary(raw))).toThrow(/^e2e_latency: the summary has no p\(99\); keep the scripts' summaryTrendStats/);
    expect(() => readK6Summary({ version: '1.0.0', config: {}, metadata: {}, results: { metrics: [] } })).toThrow(/machine-readable summary/);
    expect(() => readK6Summary({ metrics: { ops: { type: 'counter', values: { count: 'many' } } } })).toThrow(/^summary\.metrics\.ops\.values\.count: /);
    expect(() => readK6Summary([])).toThrow(/expected a JSON object/);
  });

  it('reads the value a threshold expression compares', () => {
    const m = { type: 'trend' as const, values: { med: 3, 'p(99.9)': 9, count: 4, avg: 2.5 }, thresholds: {} };
    expect(thresholdValue(m, 'p(99.9) < 10')).toBe(9);
    expect(thresholdValue(m, 'p(50)<10')).toBe(3);
    expect(thresholdValue(m, 'avg<=3')).toBe(2.5);
    expect(thresholdValue(m, 'p(95)<10')).toBeNull();
  });
});
