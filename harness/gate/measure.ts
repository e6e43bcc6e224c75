/**
 * One measured run on a stack that is already up: the workload into its own run directory,
 * judged and reported exactly as `npm run scenario` judges a run. The gate repeats it, the
 * capacity sweep steps it; both keep one stack for many runs (each run uses fresh rooms).
 */
import { readRun } from '../history/reader.ts';
import type { ThresholdSpec } from '../checks/thresholds.ts';
import { collectEnvironment, evaluateRun, writeReport, type Report } from '../report/index.ts';
import { runWorkload, type RunOutput } from '../runner/run.ts';
import type { ScenarioDefinition, ScenarioOptions } from '../runner/scenario.ts';
import type { StartedStack } from '../stack/index.ts';

export interface MeasureInput {
  stack: StartedStack;
  scenario: ScenarioDefinition;
  options: ScenarioOptions;
  outDir: string;
  thresholds: ThresholdSpec;
  /** Extra environment facts for the report (e.g. the gate's planted delay). */
  environment?: Record<string, unknown>;
  progress?: (line: string) => void;
}

export interface Measured {
  report: Report;
  run: RunOutput;
  /** Wall-clock span from the first to the last write operation: the load itself, without joins and the quiet period. */
  loadWindow: { fromEpochMs: number; toEpochMs: number } | null;
}

export async function measureRun(input: MeasureInput): Promise<Measured> {
  const { stack, scenario, options, outDir } = input;
  const run = await runWorkload({ scenario, options, outDir, stack, mutants: [], ...(input.progress ? { progress: input.progress } : {}) });
  const { history, final } = await readRun(outDir);
  const report = evaluateRun({
    history,
    final,
    scenario: scenario.name,
    thresholds: input.thresholds,
    environment: collectEnvironment({ stack: { postgres: stack.postgres.provider }, ...input.environment }),
    options: { ...options, executor: { ...run.executor } },
  });
  await writeReport(outDir, report);
  const start = history[0]?.type === 'run-start' ? history[0] : undefined;
  let from = Infinity;
  let to = -Infinity;
  for (const e of history) {
    if (e.type === 'invoke' && (e.op === 'post' || e.op === 'edit' || e.op === 'delete')) {
      from = Math.min(from, e.t);
      to = Math.max(to, e.t);
    }
  }
  const loadWindow = start && from <= to ? { fromEpochMs: start.epochMs + from, toEpochMs: start.epochMs + to } : null;
  return { report, run, loadWindow };
}
