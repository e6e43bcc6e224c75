/** The gate's report.md (a pull-request comment) and its one-line verdicts. */
import { markdownTable } from '../lib/table.ts';
import type { MetricComparison } from './compare.ts';
import { GATE_METRICS, type GateMetric } from './metrics.ts';
import type { GateResult, GateRun, ScenarioGate } from './run.ts';

const pct = (x: number) => (Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%` : x > 0 ? '+inf' : '-inf');
const val = (x: number | undefined, m: GateMetric) => (x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(GATE_METRICS[m].unit === 'ms' ? 2 : 1));

/** Why a scenario failed, one phrase per cause; empty when it passed. */
export function scenarioFailures(s: ScenarioGate): string[] {
  const out: string[] = [];
  for (const [i, r] of s.runs.entries()) {
    if (r.failedChecks.length) out.push(`${s.scenario} run ${i + 1}: check ${r.failedChecks.join(', ')} failed`);
    if (r.failedThresholds.length) out.push(`${s.scenario} run ${i + 1}: threshold ${r.failedThresholds.join(', ')} breached`);
  }
  for (const c of s.comparisons) if (c.verdict === 'regressed') out.push(`${s.scenario}: ${c.reason}`);
  return out;
}

export function verdictOf(g: GateResult): string {
  const causes = g.scenarios.flatMap(scenarioFailures);
  if (g.mode === 'update-baseline') {
    return g.exitCode === 0 ? `baseline written to ${g.baselinePath}` : `baseline NOT written: ${causes.join('; ')}`;
  }
  if (g.exitCode === 0) return `PASSED: ${g.scenarios.map((s) => s.scenario).join(', ')} within ${pct(g.settings.tolerance)} of ${g.baselinePath}, every check and threshold held`;
  return `FAILED: ${causes.join('; ')}`;
}

function runsTable(runs: readonly GateRun[]): string {
  return markdownTable(
    ['run', 'seed', 'result', 'e2e p50 (ms)', 'e2e p99 (ms)', 'e2e p50 / floor', 'edit p99 (ms)', 'deliveries/s', 'directory'],
    runs.map((r, i) => [
      String(i + 1),
      String(r.seed),
      r.exitCode === 0 ? '✅ ok' : r.exitCode === 99 ? `❌ thresholds: ${r.failedThresholds.join(', ')}` : `❌ checks: ${r.failedChecks.join(', ')}`,
      val(r.metrics.e2e_p50, 'e2e_p50'),
      val(r.metrics.e2e_p99, 'e2e_p99'),
      val(r.metrics.e2e_floor_ratio, 'e2e_floor_ratio'),
      val(r.metrics.edit_propagation_p99, 'edit_propagation_p99'),
      val(r.metrics.deliveries_per_sec, 'deliveries_per_sec'),
      r.dir,
    ]),
    ['right', 'right', 'left', 'right', 'right', 'right', 'right', 'right', 'left'],
  );
}

function comparisonTable(cs: readonly MetricComparison[]): string {
  const icon = (c: MetricComparison) => (c.verdict === 'regressed' ? '❌ regressed' : c.verdict === 'improved' ? '✅ improved' : c.verdict === 'no-data' ? '❔ no data' : '✅ ok');
  return markdownTable(
    ['metric', 'baseline median', 'current median', 'change (worse +)', 'confidence worse', 'result', 'samples (baseline / current)'],
    cs.map((c) => [
      `${c.label} (${c.unit})`,
      val(c.baselineMedian, c.metric),
      val(c.currentMedian, c.metric),
      pct(c.worseBy),
      `${(c.confidence * 100).toFixed(1)}%${c.underpowered ? ' (max ' + (c.maxConfidence * 100).toFixed(1) + '%)' : ''}`,
      icon(c),
      `${c.baseline.map((x) => val(x, c.metric)).join(', ')} / ${c.current.map((x) => val(x, c.metric)).join(', ')}`,
    ]),
    ['left', 'right', 'right', 'right', 'right', 'left', 'left'],
  );
}

export function gateMarkdown(g: GateResult): string {
  const out: string[] = [];
  const ok = g.exitCode === 0;
  out.push(`# ${ok ? '✅' : '❌'} Regression gate: ${g.mode === 'update-baseline' ? (ok ? 'baseline updated' : 'baseline not updated') : ok ? 'passed' : 'failed'}`, '');
  out.push(verdictOf(g), '');
  const s = g.settings;
  out.push(
    `Baseline \`${g.baselinePath}\`; ${s.repeat} run(s) per scenario; a metric regresses when its median moves the worse way by more than ${pct(s.tolerance)} ` +
      `(and ${s.minChangeMs} ms for latencies) with at least ${(s.confidence * 100).toFixed(0)}% confidence (exact one-sided Mann-Whitney U on the runs against the baseline's runs; ` +
      `with too few runs to reach that confidence the tolerance alone decides). Took ${(g.durationMs / 1000).toFixed(0)} s, started ${g.startedAt}.`,
    '',
  );
  for (const w of g.warnings) out.push(`> **Warning:** ${w}`, '');
  for (const sc of g.scenarios) {
    const o = sc.options;
    out.push(`## ${sc.exitCode === 0 ? '✅' : '❌'} ${sc.scenario}`, '');
    out.push(`${o.rate} ops/s, ${o.rooms} room(s) x ${o.users} users + ${o.readers} readers, ${(o.durationMs / 1000).toFixed(1)} s per run.`, '');
    out.push(runsTable(sc.runs), '');
    if (sc.comparisons.length) out.push(comparisonTable(sc.comparisons), '');
  }
  out.push('Each run directory holds history.ndjson, report.json, report.md and report.html.', '');
  return out.join('\n');
}
