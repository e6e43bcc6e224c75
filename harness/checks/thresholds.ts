/**
 * k6-style thresholds: `{ e2e_latency: ["p(99)<50", "p(50)<=10"], lost: ["count==0"] }`.
 * An expression is `<aggregation> <operator> <number>`; aggregations p(N), avg, min, max, med
 * and count on trends; count and rate on counters; rate on rates; value on gauges.
 * Bad syntax or an unknown metric is an error naming the metric and the expression.
 */
import { z } from 'zod';
import { METRICS, type Metric, type MetricName, type MetricSet, type MetricType } from './metrics.ts';

export type Aggregation = { kind: 'p'; p: number } | { kind: 'avg' | 'min' | 'max' | 'med' | 'count' | 'rate' | 'value' };
export type Operator = '<' | '<=' | '>' | '>=' | '==' | '!=';

export interface Threshold {
  metric: MetricName;
  expr: string;
  aggregation: Aggregation;
  op: Operator;
  target: number;
  /** k6's option; carried for callers that stop a run early. */
  abortOnFail: boolean;
}

export interface ThresholdResult {
  metric: string;
  expr: string;
  /** The aggregated value; null when the metric has no data (the threshold then fails). */
  value: number | null;
  passed: boolean;
}

export class ThresholdError extends Error {}

const ALLOWED: Record<MetricType, readonly string[]> = {
  trend: ['p', 'avg', 'min', 'max', 'med', 'count'],
  counter: ['count', 'rate'],
  rate: ['rate'],
  gauge: ['value'],
};

const EXPR = /^\s*(p\(\s*([0-9]+(?:\.[0-9]+)?)\s*\)|avg|min|max|med|count|rate|value)\s*(<=|>=|===|==|!=|<|>)\s*(-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)\s*$/;

export function parseExpression(metric: string, expr: string): Threshold {
  const def = (METRICS as Record<string, { type: MetricType }>)[metric];
  if (!def) {
    throw new ThresholdError(`threshold on unknown metric '${metric}' ("${expr}"); expected one of ${Object.keys(METRICS).join(', ')}`);
  }
  const m = EXPR.exec(expr);
  if (!m) {
    throw new ThresholdError(
      `threshold ${metric}: "${expr}" is not "<aggregation> <op> <number>" (aggregation p(N), avg, min, max, med, count, rate or value; op < <= > >= == !=)`,
    );
  }
  const aggregation: Aggregation = m[2] !== undefined ? { kind: 'p', p: Number(m[2]) } : { kind: m[1] as Exclude<Aggregation['kind'], 'p'> };
  if (aggregation.kind === 'p' && aggregation.p > 100) {
    throw new ThresholdError(`threshold ${metric}: "${expr}": percentile ${aggregation.p} is above 100`);
  }
  if (!ALLOWED[def.type].includes(aggregation.kind)) {
    throw new ThresholdError(
      `threshold ${metric}: "${expr}": ${aggregation.kind === 'p' ? 'p(N)' : aggregation.kind} does not apply to a ${def.type}; use ${ALLOWED[def.type].map((a) => (a === 'p' ? 'p(N)' : a)).join(', ')}`,
    );
  }
  const op = (m[3] === '===' ? '==' : m[3]) as Operator;
  return { metric: metric as MetricName, expr: expr.trim(), aggregation, op, target: Number(m[4]), abortOnFail: false };
}

const thresholdEntry = z.union([z.string(), z.object({ threshold: z.string(), abortOnFail: z.boolean().optional() })]);
export const thresholdSpecSchema = z.record(z.string(), z.array(thresholdEntry));
export type ThresholdSpec = z.infer<typeof thresholdSpecSchema>;

export function parseThresholds(spec: unknown): Threshold[] {
  const parsed = thresholdSpecSchema.safeParse(spec);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const at = issue.path.length ? `thresholds.${issue.path.map(String).join('.')}` : 'thresholds';
    throw new ThresholdError(`${at}: ${issue.message}; expected { metric: ["expr", ...] } with expr a string or { threshold: "expr" }`);
  }
  const out: Threshold[] = [];
  for (const [metric, entries] of Object.entries(parsed.data)) {
    for (const e of entries) {
      const t = parseExpression(metric, typeof e === 'string' ? e : e.threshold);
      if (typeof e !== 'string' && e.abortOnFail) t.abortOnFail = true;
      out.push(t);
    }
  }
  return out;
}

/** A `--threshold` flag: `metric=expr` or `metric:expr`, e.g. `e2e_latency=p(99)<50`. */
export function parseThresholdFlag(flag: string): { metric: string; expr: string } {
  const m = /^\s*([a-z_][a-z0-9_]*)\s*[=:]\s*(.+)$/i.exec(flag);
  if (!m || /^[<>=!]/.test(m[2]!)) {
    throw new ThresholdError(`--threshold "${flag}": expected metric=expression, e.g. e2e_latency=p(99)<50`);
  }
  const t = parseExpression(m[1]!, m[2]!);
  return { metric: t.metric, expr: t.expr };
}

/** Flags replace a scenario's expressions metric by metric (as k6's CLI does for its options). */
export function mergeThresholds(base: ThresholdSpec, flags: readonly string[]): ThresholdSpec {
  const out: ThresholdSpec = { ...base };
  const replaced = new Set<string>();
  for (const f of flags) {
    const { metric, expr } = parseThresholdFlag(f);
    if (!replaced.has(metric)) {
      out[metric] = [];
      replaced.add(metric);
    }
    out[metric]!.push(expr);
  }
  return out;
}

export function aggregate(metric: Metric, a: Aggregation): number | null {
  let v: number;
  switch (metric.type) {
    case 'trend': {
      const h = metric.histogram;
      if (a.kind === 'count') return h.count;
      if (h.count === 0) return null;
      v = a.kind === 'p' ? h.percentile(a.p) : a.kind === 'med' ? h.percentile(50) : a.kind === 'avg' ? h.avg : a.kind === 'min' ? h.min : h.max;
      break;
    }
    case 'counter': v = a.kind === 'rate' ? metric.rate : metric.count; break;
    case 'rate': v = metric.rate; break;
    case 'gauge': v = metric.value; break;
  }
  return Number.isFinite(v) ? v : null;
}

function compare(v: number, op: Operator, target: number): boolean {
  switch (op) {
    case '<': return v < target;
    case '<=': return v <= target;
    case '>': return v > target;
    case '>=': return v >= target;
    case '==': return v === target;
    case '!=': return v !== target;
  }
}

export function evaluateThresholds(thresholds: readonly Threshold[], metrics: MetricSet): ThresholdResult[] {
  return thresholds.map((t) => {
    const value = aggregate(metrics[t.metric], t.aggregation);
    const rounded = value === null ? null : Math.round(value * 1000) / 1000;
    return { metric: t.metric, expr: t.expr, value: rounded, passed: value !== null && compare(value, t.op, t.target) };
  });
}
