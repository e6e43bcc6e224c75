/**
 * Runs side by side: the same scenario and seed under different integration rules or connector
 * capture modes (or any saved runs), one table of what each run's writer, connector and users saw.
 * The table goes into every compared run's report (report.json, report.md) and into report.md of
 * the comparison's own directory.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { markdownTable, textTable } from '../lib/table.ts';
import { writeReport } from '../report/write.ts';
import { usPerChangeOf } from '../report/stack-cost.ts';
import type { ComparisonSummary, Report } from '../report/types.ts';

export interface ComparedRun {
  label: string;
  dir: string;
  report: Report;
}

export type ComparisonAxis = ComparisonSummary['axis'];

/** A mode that was to be compared but could not run (e.g. its stack did not start). */
export interface NotRun {
  label: string;
  error: string;
}

type Row = [string, (r: Report) => string];

const n = (x: number | undefined, digits = 0) => (x === undefined ? '-' : x.toFixed(digits));
const pct = (x: number | undefined) => (x === undefined ? '-' : `${(x * 100).toFixed(2)}%`);
const p50p99 = (s: Report['latency'][string] | undefined) => (s?.count ? `${n(s.p50, 1)} / ${n(s.p99, 1)}` : '-');
const perAuthor = (r: Report) => {
  const c = r.checks.find((c) => c.name === 'per-author-order')?.details as { rate?: number; reordered?: number } | undefined;
  return c?.rate === undefined ? '-' : `${pct(c.rate)} (${c.reordered ?? 0} posts)`;
};
const checkWord = (name: string) => (r: Report) => {
  const c = r.checks.find((c) => c.name === name);
  return c === undefined ? '-' : c.valid === true ? 'valid' : c.valid === false ? 'INVALID' : 'unknown';
};

const VERDICT: Row[] = [
  ['verdict', (r) => (r.passed ? 'passed' : `FAILED (${r.checks.filter((c) => c.valid !== true).map((c) => c.name).join(', ') || 'thresholds'})`)],
  ['checks valid', (r) => `${r.checks.filter((c) => c.valid === true).length}/${r.checks.length}`],
];

const RULES_ROWS: Row[] = [
  ...VERDICT,
  ['writer: messages', (r) => n(r.integration?.messages)],
  ['writer: out of order', (r) => (r.integration ? `${r.integration.outOfOrder} (${pct(r.integration.outOfOrderRate)})` : '-')],
  ['writer: max overtake (ms)', (r) => n(r.integration?.maxOvertakeMs, 1)],
  ['writer: duplicate deliveries', (r) => (r.integration ? `${r.integration.duplicateDeliveries} (${pct(r.integration.duplicateRate)})` : '-')],
  ['writer: edits before their post', (r) => n(r.integration?.editsBeforePost)],
  ['writer: retries / dropped', (r) => (r.integration ? `${r.integration.retries} / ${r.integration.dropped}` : '-')],
  ['posts committed out of sent order', perAuthor],
  ['lost / duplicated (subscribers)', (r) => `${r.counts.lost} / ${r.counts.duplicated}`],
  ['e2e p50 / p99 (ms)', (r) => p50p99(r.latency.e2e)],
  ['ack -> commit p99 (ms)', (r) => n(r.latency.ackToCommit?.p99, 1)],
  ['ops/s', (r) => n(r.throughput.opsPerSec, 1)],
];

/** What capture costs writers and what it gives subscribers: the connector modes differ in these. */
const CONNECTOR_ROWS: Row[] = [
  ...VERDICT,
  ['committed changes', (r) => String(r.counts.committed)],
  ['lost / duplicated (subscribers)', (r) => `${r.counts.lost} / ${r.counts.duplicated}`],
  ['versions out of order (subscribers)', (r) => String(r.counts.outOfOrder)],
  ['commit-order', checkWord('commit-order')],
  ['e2e p50 / p99 (ms)', (r) => p50p99(r.latency.e2e)],
  ['commit -> publish p50 / p99 (ms)', (r) => p50p99(r.latency.commitToPublish)],
  ['ack -> commit p50 / p99 (ms, the writer\'s transaction)', (r) => p50p99(r.latency.ackToCommit)],
  ['Postgres CPU per change (µs)', (r) => n(usPerChangeOf(r.stackCost, 'postgres'))],
  ['connector CPU per change (µs)', (r) => n(usPerChangeOf(r.stackCost, 'connector'))],
  ['ops/s', (r) => n(r.throughput.opsPerSec, 1)],
];

/** What the attackers cost honest users, and the realtime service's memory. */
const ATTACKER_ROWS: Row[] = [
  ...VERDICT,
  ['lost / duplicated (subscribers)', (r) => `${r.counts.lost} / ${r.counts.duplicated}`],
  ['honest e2e p50 / p99 (ms)', (r) => p50p99(r.latency.e2e)],
  ['ack -> commit p99 (ms)', (r) => n(r.latency.ackToCommit?.p99, 1)],
  ['realtime RSS growth (MiB)', (r) => n(r.memory?.parts.find((p) => p.part === 'realtime')?.growthMiB, 1)],
  ['attack classes refused as expected', (r) => (r.attacks ? `${r.attacks.filter((a) => a.asExpected).length}/${r.attacks.length}` : '-')],
  ['ops/s', (r) => n(r.throughput.opsPerSec, 1)],
];

const ROWS: Record<ComparisonAxis, Row[]> = { rules: RULES_ROWS, 'connector-mode': CONNECTOR_ROWS, attackers: ATTACKER_ROWS, runs: RULES_ROWS };

export function loadRun(dir: string, label?: string): ComparedRun {
  const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as Report;
  return { label: label ?? `${report.scenario} (${String((report.environment as { stack?: { rules?: string } }).stack?.rules ?? dir)})`, dir, report };
}

export function compareRuns(runs: readonly ComparedRun[], axis: ComparisonAxis): ComparisonSummary {
  const seeds = new Set(runs.map((r) => r.report.run.seed));
  return {
    axis,
    seed: seeds.size === 1 ? [...seeds][0]! : null,
    runs: runs.map((r) => ({ label: r.label, dir: r.dir, passed: r.report.passed })),
    rows: ROWS[axis].map(([measure, f]) => ({ measure, values: runs.map((r) => f(r.report)) })),
  };
}

export function comparisonTable(c: ComparisonSummary, format: 'text' | 'markdown'): string {
  const header = ['', ...c.runs.map((r) => r.label)];
  const body = c.rows.map((row) => [row.measure, ...row.values]);
  return format === 'markdown' ? markdownTable(header, body) : textTable(header, body);
}

/**
 * Puts the comparison into every run's report (rewritten in its directory; saved runs given by
 * the user are left as they are) and writes report.md and comparison.json into `dir`; returns the
 * text table for the terminal.
 */
export async function writeComparison(dir: string, runs: readonly ComparedRun[], axis: ComparisonAxis, notRun: readonly NotRun[] = []): Promise<string> {
  const c = compareRuns(runs, axis);
  if (axis !== 'runs') for (const r of runs) await writeReport(r.dir, { ...r.report, comparison: c });
  mkdirSync(dir, { recursive: true });
  const scenarios = [...new Set(runs.map((r) => r.report.scenario))].join(', ');
  const md = [
    `# Comparison: ${scenarios}${c.seed === null ? '' : `, seed ${c.seed}`}`,
    '',
    comparisonTable(c, 'markdown'),
    '',
    ...runs.map((r) => `- ${r.label}: ${r.report.passed ? 'passed' : 'FAILED'}, [report](${join(r.dir, 'report.md')})`),
    ...notRun.map((n) => `- ${n.label}: did not run: ${n.error}`),
    '',
  ].join('\n');
  writeFileSync(join(dir, 'report.md'), md);
  writeFileSync(
    join(dir, 'comparison.json'),
    JSON.stringify({ ...c, notRun, details: runs.map((r) => ({ label: r.label, integration: r.report.integration ?? null, counts: r.report.counts, latency: { e2e: r.report.latency.e2e, commitToPublish: r.report.latency.commitToPublish ?? null }, stackCost: r.report.stackCost ?? null })) }, null, 2),
  );
  return comparisonTable(c, 'text');
}
