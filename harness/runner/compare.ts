/**
 * Runs side by side: the same scenario and seed under different integration modes (or any saved
 * runs), one table of what each run's writer saw and what its users got. Issue 12's question:
 * how much rosier is the orderly integration than the real, unordered one?
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { markdownTable } from '../lib/table.ts';
import type { Report } from '../report/types.ts';

export interface ComparedRun {
  label: string;
  dir: string;
  report: Report;
}

type Row = [string, (r: Report) => string];

const n = (x: number | undefined, digits = 0) => (x === undefined ? '-' : x.toFixed(digits));
const pct = (x: number | undefined) => (x === undefined ? '-' : `${(x * 100).toFixed(2)}%`);
const perAuthor = (r: Report) => {
  const c = r.checks.find((c) => c.name === 'per-author-order')?.details as { rate?: number; reordered?: number } | undefined;
  return c?.rate === undefined ? '-' : `${pct(c.rate)} (${c.reordered ?? 0} posts)`;
};

const ROWS: Row[] = [
  ['verdict', (r) => (r.passed ? 'passed' : `FAILED (${r.checks.filter((c) => c.valid !== true).map((c) => c.name).join(', ') || 'thresholds'})`)],
  ['checks valid', (r) => `${r.checks.filter((c) => c.valid === true).length}/${r.checks.length}`],
  ['writer: messages', (r) => n(r.integration?.messages)],
  ['writer: out of order', (r) => (r.integration ? `${r.integration.outOfOrder} (${pct(r.integration.outOfOrderRate)})` : '-')],
  ['writer: max overtake (ms)', (r) => n(r.integration?.maxOvertakeMs, 1)],
  ['writer: duplicate deliveries', (r) => (r.integration ? `${r.integration.duplicateDeliveries} (${pct(r.integration.duplicateRate)})` : '-')],
  ['writer: edits before their post', (r) => n(r.integration?.editsBeforePost)],
  ['writer: retries / dropped', (r) => (r.integration ? `${r.integration.retries} / ${r.integration.dropped}` : '-')],
  ['posts committed out of sent order', perAuthor],
  ['lost / duplicated (subscribers)', (r) => `${r.counts.lost} / ${r.counts.duplicated}`],
  ['e2e p50 / p99 (ms)', (r) => `${n(r.latency.e2e?.p50, 1)} / ${n(r.latency.e2e?.p99, 1)}`],
  ['ack -> commit p99 (ms)', (r) => n(r.latency.ackToCommit?.p99, 1)],
  ['ops/s', (r) => n(r.throughput.opsPerSec, 1)],
];

export function loadRun(dir: string, label?: string): ComparedRun {
  const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as Report;
  return { label: label ?? `${report.scenario} (${String((report.environment as { stack?: { rules?: string } }).stack?.rules ?? dir)})`, dir, report };
}

export function comparisonTable(runs: readonly ComparedRun[], format: 'text' | 'markdown'): string {
  const header = ['', ...runs.map((r) => r.label)];
  const body = ROWS.map(([name, f]) => [name, ...runs.map((r) => f(r.report))]);
  if (format === 'markdown') return markdownTable(header, body);
  const widths = header.map((_, i) => Math.max(...[header, ...body].map((row) => row[i]!.length)));
  return [header, ...body].map((row) => row.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

/** Writes comparison.md and comparison.json into `dir`; returns the text table. */
export function writeComparison(dir: string, runs: readonly ComparedRun[]): string {
  mkdirSync(dir, { recursive: true });
  const md = [
    `# Comparison: ${[...new Set(runs.map((r) => r.report.scenario))].join(', ')}`,
    '',
    comparisonTable(runs, 'markdown'),
    '',
    ...runs.map((r) => `- ${r.label}: \`${r.dir}\``),
    '',
  ].join('\n');
  writeFileSync(join(dir, 'comparison.md'), md);
  writeFileSync(
    join(dir, 'comparison.json'),
    JSON.stringify(runs.map((r) => ({ label: r.label, dir: r.dir, passed: r.report.passed, integration: r.report.integration ?? null, counts: r.report.counts, latency: { e2e: r.report.latency.e2e } })), null, 2),
  );
  return comparisonTable(runs, 'text');
}
