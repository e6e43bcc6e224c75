/**
 * report.html: one self-contained file (opens from disk, no network) with the verdict, the
 * checks and thresholds, the environment, and charts drawn by Chart.js, inlined from node_modules.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { COMPARISON_AXIS_WORDS, detailsLine, generatorCostLine, healthLine, STAGE_LABELS, validityWord, verdictLine } from './describe.ts';
import { abuseHtml } from './html-abuse.ts';
import { CHARTS_SCRIPT } from './html-charts.ts';
import { checksAndThresholdsLine, environmentLine } from './html-header.ts';
import { ms, num } from '../lib/table.ts';
import type { Report } from './types.ts';

export const REPORT_HTML = 'report.html';

/** The chart names the page draws (ids of their canvases), in page order. */
export const CHARTS = [
  ['chart-latency-time', 'End-to-end latency percentiles over time'],
  ['chart-distribution', 'Latency distribution (HDR percentile plot)'],
  ['chart-stages', 'Latency by stage'],
  ['chart-throughput', 'Throughput and deliveries over time'],
  ['chart-errors', 'Errors and dropped operations over time'],
  ['chart-health', 'Load generator health over time'],
] as const;

let chartJs: string | undefined;
/** Chart.js's UMD build as text, safe to inline in a <script> element. */
export function chartLibrary(): string {
  if (chartJs === undefined) {
    const require = createRequire(import.meta.url);
    // The package's exports hide dist/; its UMD build sits beside the entry point.
    const path = join(dirname(require.resolve('chart.js')), 'chart.umd.min.js');
    // The page lives on its own: no source map to look for, nothing that could end the script tag.
    chartJs = readFileSync(path, 'utf8').replace(/\/\/# sourceMappingURL=.*$/m, '').replace(/<\/script/gi, '<\\/script');
  }
  return chartJs;
}

export const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** JSON that is safe inside a <script> element. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

export function table(header: string[], rows: string[][], numeric: number[] = []): string {
  const cell = (tag: string, c: string, i: number) => `<${tag}${numeric.includes(i) ? ' class="num"' : ''}>${c}</${tag}>`;
  return `<table><thead><tr>${header.map((h, i) => cell('th', esc(h), i)).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c, i) => cell('td', c, i)).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

const badge = (ok: boolean | 'unknown', text: string) => `<span class="badge ${ok === true ? 'ok' : ok === false ? 'bad' : 'unk'}">${esc(text)}</span>`;

function environmentList(r: Report): string {
  const flat: [string, string][] = [];
  const walk = (prefix: string, v: unknown) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      for (const [k, x] of Object.entries(v)) walk(prefix ? `${prefix}.${k}` : k, x);
    } else flat.push([prefix, typeof v === 'string' ? v : JSON.stringify(v)]);
  };
  walk('', r.environment);
  walk('options', r.options);
  if (r.run.seed !== null) flat.push(['seed', String(r.run.seed)]);
  if (r.run.startedAt) flat.push(['started', r.run.startedAt]);
  return `<dl>${flat.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>`;
}

/** The stylesheet of the project's report pages (report.html, capacity.html). */
export const PAGE_STYLE = `body { font: 14px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 1200px; padding: 1rem 1.5rem; color: #111827; }
header { border-bottom: 1px solid #e5e7eb; margin-bottom: 1rem; }
h1 { margin: 0.2rem 0; } h2 { margin-top: 1.8rem; font-size: 1.15rem; }
.verdict.pass { color: #15803d; } .verdict.fail { color: #b91c1c; }
.warn { background: #fef3c7; border-left: 4px solid #d97706; padding: 0.5rem 0.8rem; }
table { border-collapse: collapse; margin: 0.4rem 0; font-size: 13px; }
th, td { border-bottom: 1px solid #e5e7eb; padding: 0.25rem 0.6rem; text-align: left; vertical-align: top; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
.badge { border-radius: 3px; padding: 0 0.4rem; font-weight: 600; }
.badge.ok { background: #dcfce7; color: #166534; } .badge.bad { background: #fee2e2; color: #991b1b; } .badge.unk { background: #e5e7eb; color: #374151; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 1rem; }
figure { margin: 0; border: 1px solid #e5e7eb; border-radius: 6px; padding: 0.5rem; }
figcaption { font-weight: 600; margin-bottom: 0.3rem; }
.chart { position: relative; height: 280px; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.1rem 1rem; font-size: 13px; }
dt { color: #4b5563; } dd { margin: 0; font-family: ui-monospace, monospace; }
.summary { margin: 0.3rem 0; } .summary .badge { display: inline-block; margin: 0.1rem 0; font-weight: 500; } .env { color: #374151; font-size: 13px; }
`;

export function toHtml(r: Report): string {
  const checks = table(
    ['check', 'result', 'failed at (ms)', 'details'],
    r.checks.map((c) => [esc(c.name), badge(c.valid, validityWord(c.valid)), c.failedAt === undefined ? '' : ms(c.failedAt), esc(detailsLine(c.details, 200))]),
    [2],
  );
  const thresholds = r.thresholds.length
    ? table(
        ['metric', 'threshold', 'value', 'result'],
        r.thresholds.map((t) => [esc(t.metric), `<code>${esc(t.expr)}</code>`, t.value === null ? 'no data' : num(t.value), badge(t.passed, t.passed ? 'held' : 'failed')]),
        [2],
      )
    : '<p>No thresholds were set.</p>';
  const latency = table(
    ['stage', 'count', 'p50', 'p90', 'p99', 'p99.9', 'max'],
    Object.entries(r.latency).map(([s, l]) => [esc(STAGE_LABELS[s] ?? s), String(l.count), ms(l.p50), ms(l.p90), ms(l.p99), ms(l.p999), ms(l.max)]),
    [1, 2, 3, 4, 5, 6],
  );
  const c = r.counts;
  const counts = table(
    ['sent', 'committed', 'delivered', 'lost', 'duplicated', 'out of order', 'failed', 'rejected', 'dropped', 'ops/s', 'deliveries/s'],
    [[c.sent, c.committed, c.delivered, c.lost, c.duplicated, c.outOfOrder, c.failed, c.rejected, c.dropped, r.throughput.opsPerSec, r.throughput.deliveriesPerSec].map(num)],
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
  );
  const cmp = r.comparison;
  const comparison = cmp
    ? `<h2>${esc(`Comparison of ${COMPARISON_AXIS_WORDS[cmp.axis]}${cmp.seed === null ? '' : ` with seed ${cmp.seed}`}`)}</h2>\n${table(['', ...cmp.runs.map((x) => esc(x.label))], cmp.rows.map((row) => [esc(row.measure), ...row.values.map(esc)]))}\n`
    : '';
  const charts = CHARTS.map(([id, title]) => `<figure><figcaption>${esc(title)}</figcaption><div class="chart"><canvas id="${id}"></canvas></div></figure>`).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(r.scenario)}: ${r.passed ? 'passed' : 'failed'}</title>
<style>
${PAGE_STYLE}</style>
</head>
<body>
<header>
<h1>${esc(r.scenario)}: <span class="verdict ${r.passed ? 'pass' : 'fail'}">${r.passed ? 'passed' : 'failed'}</span></h1>
<p>${esc(verdictLine(r))}</p>
<p>${esc(healthLine(r))}. Duration ${(r.run.durationMs / 1000).toFixed(1)} s${r.faults.length ? `; ${r.faults.length} fault window(s), shaded on the time charts` : ''}.</p>
${checksAndThresholdsLine(r, esc)}
${environmentLine(r, esc)}
${generatorCostLine(r) ? `<p>${esc(generatorCostLine(r)!)}.</p>` : ''}
${r.generatorSaturated ? '<p class="warn">The load generator was saturated: the latency figures of this run are not trustworthy.</p>' : ''}
</header>
${comparison}<h2>Checks</h2>
${checks}
<h2>Thresholds</h2>
${thresholds}
<h2>Charts</h2>
<div class="charts">
${charts}
</div>
<h2>Latency (ms)</h2>
${latency}
<h2>Counts and throughput</h2>
${counts}
${abuseHtml(r.attacks, r.memory, esc, table)}<h2>Environment</h2>
${environmentList(r)}
<script type="application/json" id="report-data">${scriptJson(r)}</script>
<script>${chartLibrary()}</script>
<script>${CHARTS_SCRIPT}</script>
</body>
</html>
`;
}

export async function writeHtmlReport(dir: string, report: Report): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, REPORT_HTML);
  await writeFile(path, toHtml(report));
  return path;
}
