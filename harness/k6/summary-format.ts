/**
 * Reading k6's end-of-test summary in either documented JSON shape:
 * - the handleSummary() `data` object: metrics[name] = {type, contains, values, thresholds: {expr: {ok}}},
 *   root_group.checks as an array, state.testRunDurationMs;
 * - the `--summary-export` file: metrics[name] = the values themselves plus thresholds {expr: failed?}
 *   (true means the threshold FAILED, kept that way by k6 for compatibility; rates carry `value`),
 *   root_group.checks keyed by name, no state.
 * Both carry setup_data (what setup() returned). k6's newer "machine-readable summary" lacks
 * thresholds and p(99); it is recognised and refused with a pointer to the handleSummary file.
 */
import { z } from 'zod';

export type K6MetricType = 'trend' | 'counter' | 'rate' | 'gauge';

export interface K6Metric {
  type: K6MetricType;
  values: Record<string, number>;
  /** Expression -> passed. */
  thresholds: Record<string, boolean>;
}

export interface K6Check {
  name: string;
  passes: number;
  fails: number;
}

export interface K6Summary {
  format: 'handleSummary' | 'summary-export';
  metrics: Record<string, K6Metric>;
  checks: K6Check[];
  durationMs: number | undefined;
  setupData: unknown;
}

const numbers = z.record(z.string(), z.number());
const checkSchema = z.object({ name: z.string(), passes: z.number(), fails: z.number() });
type Group = { checks?: unknown; groups?: unknown };
const groupSchema: z.ZodType<Group> = z.lazy(() =>
  z.looseObject({
    checks: z.union([z.array(checkSchema), z.record(z.string(), checkSchema)]).optional(),
    groups: z.union([z.array(groupSchema), z.record(z.string(), groupSchema)]).optional(),
  }),
);

const handleSummaryMetric = z.looseObject({
  type: z.enum(['trend', 'counter', 'rate', 'gauge']),
  values: numbers,
  thresholds: z.record(z.string(), z.object({ ok: z.boolean() })).optional(),
});

const handleSummarySchema = z.looseObject({
  metrics: z.record(z.string(), handleSummaryMetric),
  root_group: groupSchema.optional(),
  state: z.looseObject({ testRunDurationMs: z.number() }).optional(),
  setup_data: z.unknown().optional(),
});

const exportMetric = z.record(z.string(), z.union([z.number(), z.record(z.string(), z.boolean())]));
const exportSchema = z.looseObject({
  metrics: z.record(z.string(), exportMetric),
  root_group: groupSchema.optional(),
  setup_data: z.unknown().optional(),
});

export class SummaryFormatError extends Error {}

function fail(where: string, err: z.ZodError): never {
  const issue = err.issues[0]!;
  const at = [where, ...issue.path.map(String)].join('.');
  throw new SummaryFormatError(`${at}: ${issue.message}`);
}

function collectChecks(group: Group | undefined, out: K6Check[] = []): K6Check[] {
  if (!group) return out;
  const checks = Array.isArray(group.checks) ? group.checks : Object.values((group.checks as Record<string, K6Check> | undefined) ?? {});
  for (const c of checks as K6Check[]) out.push({ name: c.name, passes: c.passes, fails: c.fails });
  const groups = Array.isArray(group.groups) ? group.groups : Object.values((group.groups as Record<string, Group> | undefined) ?? {});
  for (const g of groups as Group[]) collectChecks(g, out);
  return out;
}

/** The legacy export drops the metric type: it follows from which statistics are present. */
function exportType(values: Record<string, number>): K6MetricType {
  if ('passes' in values && 'fails' in values) return 'rate';
  if ('avg' in values || 'med' in values || 'p(90)' in values || 'p(95)' in values) return 'trend';
  if ('count' in values && 'rate' in values) return 'counter';
  return 'gauge';
}

export function readK6Summary(raw: unknown): K6Summary {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new SummaryFormatError('summary: expected a JSON object with "metrics"');
  const obj = raw as Record<string, unknown>;
  if (!('metrics' in obj) && typeof obj.results === 'object') {
    throw new SummaryFormatError(
      "summary: this is k6's machine-readable summary, which has no thresholds and no p(99); convert the handleSummary file the scripts write instead (K6_HARNESS_SUMMARY, k6-summary.json in the run directory)",
    );
  }
  const metrics = obj.metrics;
  const handleSummaryShaped =
    typeof metrics === 'object' && metrics !== null && Object.values(metrics).some((m) => typeof m === 'object' && m !== null && 'values' in m && 'type' in m);
  if (handleSummaryShaped) {
    const p = handleSummarySchema.safeParse(raw);
    if (!p.success) fail('summary', p.error);
    const out: Record<string, K6Metric> = {};
    for (const [name, m] of Object.entries(p.data.metrics)) {
      const thresholds: Record<string, boolean> = {};
      for (const [expr, t] of Object.entries(m.thresholds ?? {})) thresholds[expr] = t.ok;
      out[name] = { type: m.type, values: m.values, thresholds };
    }
    return { format: 'handleSummary', metrics: out, checks: collectChecks(p.data.root_group), durationMs: p.data.state?.testRunDurationMs, setupData: p.data.setup_data };
  }
  const p = exportSchema.safeParse(raw);
  if (!p.success) fail('summary', p.error);
  const out: Record<string, K6Metric> = {};
  for (const [name, m] of Object.entries(p.data.metrics)) {
    const values: Record<string, number> = {};
    const thresholds: Record<string, boolean> = {};
    for (const [k, v] of Object.entries(m)) {
      if (k === 'thresholds' && typeof v === 'object') for (const [expr, failed] of Object.entries(v)) thresholds[expr] = !failed;
      else if (typeof v === 'number') values[k] = v;
    }
    const type = exportType(values);
    if (type === 'rate' && 'value' in values) {
      values.rate = values.value!;
      delete values.value;
    }
    out[name] = { type, values, thresholds };
  }
  return { format: 'summary-export', metrics: out, checks: collectChecks(p.data.root_group), durationMs: undefined, setupData: p.data.setup_data };
}
