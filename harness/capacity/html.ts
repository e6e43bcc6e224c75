/** capacity.html: self-contained (Chart.js inlined), the latency-versus-load curve with the knee marked, and the tables of capacity.md. */
import { chartLibrary, esc, PAGE_STYLE, scriptJson, table } from '../report/html.ts';
import { headline, PROJECTION_HEADER, projectionRow, settingsLine, STEP_HEADER, stepRow } from './describe.ts';
import { CAPACITY_CHARTS, CAPACITY_SCRIPT } from './html-charts.ts';
import type { CapacityResult } from './run.ts';

const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);

export function capacityHtml(r: CapacityResult): string {
  const found = r.exitCode === 0;
  const stepHeader = STEP_HEADER(r.parts);
  const steps = table(stepHeader, r.steps.map((s) => stepRow(s, r.parts).map(esc)), range(1, stepHeader.length - 1));
  const projections = r.projections.length
    ? table(PROJECTION_HEADER, r.projections.map((p) => projectionRow(p).map(esc)), range(1, PROJECTION_HEADER.length))
    : '<p>No step ran: nothing to project.</p>';
  const saturation = r.knees
    .filter((k) => k.saturation)
    .map((k) => `<h3>users/room ${k.usersPerRoom}</h3>` + table(['part', 'utilisation of its capacity', 'basis'], k.saturation!.ranking.map((x) => [esc(x.part), `${(x.utilization * 100).toFixed(0)}%`, esc(x.basis)]), [1]))
    .join('\n');
  const charts = CAPACITY_CHARTS.map(([id, title]) => `<figure><figcaption>${esc(title)}</figcaption><div class="chart"><canvas id="${id}"></canvas></div></figure>`).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>capacity ${esc(r.scenario)}</title>
<style>${PAGE_STYLE}
.headline li { margin: 0.2rem 0; }
</style>
</head>
<body>
<header>
<h1>Capacity: ${esc(r.scenario)} <span class="verdict ${found ? 'pass' : 'fail'}">${found ? 'knee found' : 'no knee'}</span></h1>
<ul class="headline">${headline(r).map((l) => `<li>${esc(l.trim())}</li>`).join('')}</ul>
<p>${esc(settingsLine(r))}.</p>
</header>
<h2>Charts</h2>
<div class="charts">
${charts}
</div>
<h2>Steps</h2>
${steps}
<p>CPU: average over each step's load window, percent of one core; RSS: peak. Each step's directory holds its own report.html.</p>
<h2>What saturated</h2>
${saturation}
<h2>Projection</h2>
${projections}
<h2>Notes</h2>
<ul>${r.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>
<script type="application/json" id="capacity-data">${scriptJson(r)}</script>
<script>${chartLibrary()}</script>
<script>${CAPACITY_SCRIPT}</script>
</body>
</html>
`;
}
