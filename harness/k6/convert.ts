/**
 * A k6 run's summary as our report.json, so that k6 runs and harness runs sit side by side.
 * What k6 cannot know is said, not invented: the harness's checkers did not run (k6 keeps no
 * history), `committed` is what authors saw of their own rows, `rejected` is not observable.
 */
import type { ThresholdResult } from '../checks/thresholds.ts';
import type { CheckResult } from '../history/types.ts';
import type { Report, StageLatency } from '../report/types.ts';
import type { K6Metric, K6Summary } from './summary-format.ts';

/** k6 metric of the scripts -> latency stage of the report. */
const STAGES: Record<string, string> = { e2e_latency: 'e2e', edit_propagation: 'editPropagation', ack_latency: 'invokeToAck' };
const REQUIRED_STATS = ['count', 'avg', 'min', 'med', 'max', 'p(90)', 'p(99)'];

export interface K6Report extends Report {
  source: 'k6';
  notes: string[];
}

export interface ConvertOptions {
  /** Scenario name when the summary's setup_data does not carry one. */
  scenario?: string;
  /** The file the summary came from (recorded in the report). */
  summaryFile?: string;
  /** What is known of the machine that ran k6 (collectEnvironment() when it ran here). */
  environment?: Record<string, unknown>;
}

export class ConversionError extends Error {}

interface SetupData {
  scenario?: string;
  seed?: number;
  runTag?: string;
  loadStart?: number;
  loadEnd?: number;
  drainEnd?: number;
  options?: Record<string, unknown>;
  target?: Record<string, unknown>;
}

function setupDataOf(s: K6Summary): SetupData {
  const d = s.setupData;
  if (typeof d !== 'object' || d === null || Array.isArray(d)) return {};
  const o = d as Record<string, unknown>;
  const num = (k: string) => (typeof o[k] === 'number' ? (o[k] as number) : undefined);
  const obj = (k: string) => (typeof o[k] === 'object' && o[k] !== null ? (o[k] as Record<string, unknown>) : undefined);
  const out: SetupData = {};
  if (typeof o.scenario === 'string') out.scenario = o.scenario;
  if (typeof o.runTag === 'string') out.runTag = o.runTag;
  for (const k of ['seed', 'loadStart', 'loadEnd', 'drainEnd'] as const) if (num(k) !== undefined) out[k] = num(k);
  for (const k of ['options', 'target'] as const) if (obj(k)) out[k] = obj(k);
  return out;
}

function stage(name: string, m: K6Metric | undefined, notes: string[]): StageLatency {
  if (!m || (m.values.count ?? 0) === 0) return { count: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0, min: 0, avg: 0 };
  const missing = REQUIRED_STATS.filter((k) => typeof m.values[k] !== 'number');
  if (missing.length) {
    throw new ConversionError(`${name}: the summary has no ${missing.join(', ')}; keep the scripts' summaryTrendStats (${[...REQUIRED_STATS, 'p(99.9)'].join(', ')})`);
  }
  const v = m.values;
  let p999 = v['p(99.9)'];
  if (p999 === undefined) {
    p999 = v.max!;
    notes.push(`${name}: no p(99.9) in the summary; p99.9 shows the maximum.`);
  }
  return { count: v.count!, p50: v.med!, p90: v['p(90)']!, p99: v['p(99)']!, p999, max: v.max!, min: v.min!, avg: v.avg! };
}

const EXPR = /^\s*(?:p\(\s*([0-9.]+)\s*\)|(avg|min|max|med|count|rate|value))\s*(?:<=|>=|===|==|!=|<|>)\s*-?[0-9.eE+-]+\s*$/;

/** The aggregated value a k6 threshold expression compares, when the summary has it. */
export function thresholdValue(m: K6Metric, expr: string): number | null {
  const x = EXPR.exec(expr);
  if (!x) return null;
  const key = x[1] !== undefined ? `p(${Number(x[1])})` : x[2]!;
  // k6 reports the median as "med"; p(50) is the same statistic.
  const v = m.values[key] ?? (key === 'med' ? m.values['p(50)'] : key === 'p(50)' ? m.values.med : undefined);
  return typeof v === 'number' ? Math.round(v * 1000) / 1000 : null;
}

function k6Checks(s: K6Summary): CheckResult {
  const passes = s.checks.reduce((a, c) => a + c.passes, 0);
  const fails = s.checks.reduce((a, c) => a + c.fails, 0);
  const failing = s.checks.filter((c) => c.fails > 0);
  const details: Record<string, unknown> = {
    source: 'k6',
    harnessCheckers: 'not run: k6 keeps no history',
    passes,
    fails,
    checks: Object.fromEntries(s.checks.map((c) => [c.name, { passes: c.passes, fails: c.fails }])),
  };
  if (failing.length) details.failing = failing.map((c) => c.name).join('; ');
  // No checks at all means no virtual user got as far as signing in: nothing was shown valid.
  return { name: 'k6-checks', valid: s.checks.length === 0 ? 'unknown' : fails === 0, details };
}

export function k6SummaryToReport(s: K6Summary, opts: ConvertOptions = {}): K6Report {
  const setup = setupDataOf(s);
  const notes = [
    `Converted from k6's ${s.format === 'handleSummary' ? 'handleSummary() data' : '--summary-export file'}: k6 generated the load. The harness's checkers (delivery, version order, acknowledged writes, convergence, ...) did not run: k6 keeps no history of operations and receipts.`,
    'e2e_latency: publish -> receipt of the row event, per subscriber, from the publish time carried in each text; runs spread over machines include their clock offset. edit_propagation is per subscriber (the harness takes the last subscriber).',
    "counts: committed = changes their author saw on incoming (a lower bound); lost = a writer's acknowledged posts whose INSERT never reached it; rejected is not observable from k6 and reads 0.",
  ];
  const metric = (name: string) => s.metrics[name];
  const count = (name: string) => metric(name)?.values.count ?? 0;

  const latency: Record<string, StageLatency> = {};
  for (const [name, stageName] of Object.entries(STAGES)) {
    if (stageName === 'e2e' || metric(name)) latency[stageName] = stage(name, metric(name), notes);
  }
  if (latency.e2e!.count === 0) notes.push('No e2e_latency samples: no subscriber received a stamped change.');

  const thresholds: ThresholdResult[] = [];
  for (const [name, m] of Object.entries(s.metrics)) {
    for (const [expr, passed] of Object.entries(m.thresholds)) thresholds.push({ metric: name, expr, value: thresholdValue(m, expr), passed });
  }

  const checks = [k6Checks(s)];
  const exitCode: 0 | 1 | 99 = checks.some((c) => c.valid !== true) ? 1 : thresholds.some((t) => !t.passed) ? 99 : 0;

  const loadMs = setup.loadStart !== undefined && setup.loadEnd !== undefined ? setup.loadEnd - setup.loadStart : undefined;
  const deliveryMs = setup.loadStart !== undefined && setup.drainEnd !== undefined ? setup.drainEnd - setup.loadStart : undefined;
  const rateOf = (name: string, ms: number | undefined) => {
    if (ms !== undefined && ms > 0) return count(name) / (ms / 1000);
    return metric(name)?.values.rate ?? 0;
  };
  // Counters carry count and count/duration, so the duration survives even the legacy export.
  const anyCounter = Object.values(s.metrics).find((m) => m.type === 'counter' && (m.values.rate ?? 0) > 0);
  const durationMs = s.durationMs ?? (anyCounter ? (anyCounter.values.count! / anyCounter.values.rate!) * 1000 : 0);
  if (loadMs === undefined) notes.push("The summary has no setup_data window: rates are k6's over the whole run.");
  const r3 = (x: number) => Math.round(x * 1000) / 1000;

  const percentiles: Record<string, [number, number][]> = {};
  for (const [name, stageName] of Object.entries(STAGES)) {
    const m = metric(name);
    if (!m || !latency[stageName] || latency[stageName].count === 0) continue;
    const pts: [number, number][] = [];
    for (const [p, key] of [[0, 'min'], [50, 'med'], [90, 'p(90)'], [95, 'p(95)'], [99, 'p(99)'], [99.9, 'p(99.9)'], [100, 'max']] as const) {
      const v = m.values[key];
      if (typeof v === 'number') pts.push([p, v]);
    }
    percentiles[stageName] = pts;
  }

  return {
    source: 'k6',
    notes,
    scenario: setup.scenario ?? opts.scenario ?? 'k6',
    passed: exitCode === 0,
    exitCode,
    checks,
    thresholds,
    counts: {
      sent: count('ops'),
      committed: count('committed_seen'),
      delivered: count('deliveries'),
      lost: count('lost'),
      duplicated: count('duplicated'),
      outOfOrder: count('out_of_order'),
      acked: count('acked'),
      failed: count('failed'),
      rejected: 0,
      dropped: count('dropped'),
      pending: count('pending'),
      typing: count('typing'),
    },
    latency,
    throughput: {
      opsPerSec: r3(rateOf('ops', loadMs)),
      deliveriesPerSec: r3(rateOf('deliveries', deliveryMs)),
      loadSeconds: r3((loadMs ?? durationMs) / 1000),
      deliverySeconds: r3((deliveryMs ?? durationMs) / 1000),
    },
    generator: { samples: 0, maxEventLoopDelayP99Ms: 0, maxCpuPercent: 0, saturated: false, threads: [] },
    generatorSaturated: false,
    faults: [],
    run: {
      seed: setup.seed ?? null,
      startedAt: setup.loadStart !== undefined ? new Date(setup.loadStart).toISOString() : null,
      durationMs: Math.round(durationMs),
    },
    options: { ...(setup.options ?? {}), ...(setup.runTag ? { runTag: setup.runTag } : {}), ...(setup.target ? { target: setup.target } : {}) },
    environment: {
      loadGenerator: 'k6',
      summaryFormat: s.format,
      ...(opts.summaryFile ? { summaryFile: opts.summaryFile } : {}),
      ...(opts.environment ?? { machine: 'unknown: the summary does not say where k6 ran' }),
      notes,
    },
    percentiles,
    timeline: { bucketSeconds: 1, points: [] },
  };
}
