/**
 * One call from a finished run (or a saved run directory) to its report: checkers, metrics,
 * thresholds, report. The scenario command's end of run and its `--check DIR` both use it, so a
 * re-check judges a saved run exactly as the live run was judged.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runCheckers, type CheckerOptions } from '../checks/index.ts';
import { computeMetrics } from '../checks/metrics.ts';
import { evaluateThresholds, parseThresholds, type ThresholdSpec } from '../checks/thresholds.ts';
import { readRun } from '../history/reader.ts';
import type { FinalState, HistoryEvent } from '../history/types.ts';
import { buildReport } from './build.ts';
import { collectEnvironment } from './environment.ts';
import type { Report } from './types.ts';
import { readReport, REPORT_JSON, writeReport } from './write.ts';

export interface EvaluateInput {
  history: readonly HistoryEvent[];
  final: FinalState;
  /** Defaults to the scenario named in the history's run-start. */
  scenario?: string;
  thresholds?: ThresholdSpec;
  checkerOptions?: CheckerOptions;
  environment?: Record<string, unknown>;
  options?: Record<string, unknown>;
}

export function evaluateRun(input: EvaluateInput): Report {
  const { history, final } = input;
  const start = history[0]?.type === 'run-start' ? history[0] : undefined;
  // Parse first: a bad threshold is a usage error, reported before any work.
  const thresholds = parseThresholds(input.thresholds ?? {});
  const checks = runCheckers(history, final, input.checkerOptions);
  const metrics = computeMetrics(history, final, { delivery: input.checkerOptions?.delivery });
  return buildReport({
    scenario: input.scenario ?? start?.scenario ?? 'unnamed',
    history,
    final,
    checks,
    thresholds: evaluateThresholds(thresholds, metrics),
    environment: input.environment ?? collectEnvironment(),
    options: input.options ?? start?.options ?? {},
  });
}

/** The thresholds a report was judged by, as a spec again. */
export function thresholdSpecOf(report: Report): ThresholdSpec {
  const spec: ThresholdSpec = {};
  for (const t of report.thresholds) (spec[t.metric] ??= []).push(t.expr);
  return spec;
}

export interface RecheckOptions {
  /** Replace the thresholds; by default those of the directory's report.json are used again. */
  thresholds?: ThresholdSpec;
  checkerOptions?: CheckerOptions;
  /** Rewrite report.json/md/html in the directory (default true). */
  write?: boolean;
}

/** Re-runs the checkers on a saved run directory (history.ndjson + final-state.json). */
export async function recheckRunDir(dir: string, opts: RecheckOptions = {}): Promise<Report> {
  const { history, final } = await readRun(dir);
  const previousPath = join(dir, REPORT_JSON);
  const previous = existsSync(previousPath) ? await readReport(previousPath) : undefined;
  const judged = evaluateRun({
    history,
    final,
    thresholds: opts.thresholds ?? (previous ? thresholdSpecOf(previous) : {}),
    checkerOptions: opts.checkerOptions,
    // The machine the run happened on, not the one re-checking it.
    environment: previous?.environment ?? collectEnvironment(),
  });
  // A comparison was made across runs; one run's history cannot rebuild it, so it is kept as it was.
  const report = previous?.comparison ? { ...judged, comparison: previous.comparison } : judged;
  if (opts.write ?? true) await writeReport(dir, report);
  return report;
}
