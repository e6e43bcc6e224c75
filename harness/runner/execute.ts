/**
 * The scenario command's work: start the stack, run the workload, judge the history, write the
 * report, print the summary, and return the exit code CI relies on.
 */
import { join } from 'node:path';
import { readRun } from '../history/reader.ts';
import { collectEnvironment, evaluateRun, exitCodeFor, formatSummary, recheckRunDir, writeReport, type Report } from '../report/index.ts';
import { mergeThresholds } from '../checks/thresholds.ts';
import { startStack, type StackOptions } from '../stack/index.ts';
import type { MutantName } from './mutants.ts';
import { runWorkload } from './run.ts';
import type { ScenarioDefinition, ScenarioOptions, Thresholds } from './scenario.ts';

export interface ExecuteInput {
  scenario: ScenarioDefinition;
  overrides: Partial<Omit<ScenarioOptions, 'seed'>>;
  seed: number;
  /** --threshold flags, "metric=expr". */
  thresholdFlags: readonly string[];
  mutants: readonly MutantName[];
  outDir?: string;
  stackOpts: Pick<StackOptions, 'pg' | 'databaseUrl' | 'rulesFile'>;
  print?: (s: string) => void;
  quiet?: boolean;
}

export function defaultOutDir(scenario: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return join('reports', scenario, stamp);
}

export async function executeScenario(input: ExecuteInput): Promise<{ report: Report; exitCode: number; outDir: string }> {
  const print = input.print ?? ((s: string) => process.stderr.write(s));
  const sc = input.scenario;
  const options: ScenarioOptions = { ...sc.defaults, ...input.overrides, seed: input.seed };
  const outDir = input.outDir ?? defaultOutDir(sc.name);
  const thresholds = mergeThresholds(sc.thresholds, input.thresholdFlags);
  print(`scenario ${sc.name}  seed ${options.seed}  rate ${options.rate}/s  ${options.rooms} rooms x ${options.users} users + ${options.readers} readers  ${(options.durationMs / 1000).toFixed(0)} s` +
    (input.mutants.length ? `  mutants: ${input.mutants.join(', ')}` : '') + '\n');
  const stack = await startStack({
    ...input.stackOpts,
    ...(input.mutants.includes('connector-notify-only') ? { connectorMode: 'notify' as const } : {}),
    onProgress: (m) => input.quiet || print(`[stack] ${m}\n`),
  });
  let run;
  try {
    run = await runWorkload({
      scenario: sc,
      options,
      outDir,
      stack,
      mutants: input.mutants,
      progress: (line) => input.quiet || print(`${line}\n`),
    });
  } finally {
    await stack.stop();
  }
  const { history, final } = await readRun(outDir);
  const report = evaluateRun({
    history,
    final,
    scenario: sc.name,
    thresholds,
    environment: collectEnvironment({ stack: { postgres: stack.postgres.provider, rules: input.stackOpts.rulesFile ?? 'chat-rules.json' } }),
    options: { ...options, mutants: input.mutants, executor: { ...run.executor } },
  });
  await writeReport(outDir, report);
  if (!input.quiet) print(formatSummary(report, { runDir: outDir }) + '\n');
  return { report, exitCode: exitCodeFor(report.checks, report.thresholds), outDir };
}

export async function recheckRun(dir: string, opts: { thresholdFlags: readonly string[]; print: (s: string) => void }): Promise<number> {
  let report = await recheckRunDir(dir, { write: false });
  if (opts.thresholdFlags.length) {
    const base: Thresholds = {};
    for (const t of report.thresholds) (base[t.metric] ??= []).push(t.expr);
    report = await recheckRunDir(dir, { thresholds: mergeThresholds(base, opts.thresholdFlags) });
  } else {
    await writeReport(dir, report);
  }
  opts.print(formatSummary(report, { runDir: dir }) + '\n');
  return exitCodeFor(report.checks, report.thresholds);
}
