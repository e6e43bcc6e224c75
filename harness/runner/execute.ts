/**
 * The scenario command's work: start the stack, run the workload, judge the history, write the
 * report, print the summary, and return the exit code CI relies on.
 */
import { join } from 'node:path';
import { readRun } from '../history/reader.ts';
import { collectEnvironment, evaluateRun, exitCodeFor, formatSummary, recheckRunDir, writeReport, type Report } from '../report/index.ts';
import { mergeThresholds } from '../checks/thresholds.ts';
import { FAULT_TARGETS, startStack, type StackOptions, type StartedStack, type SystemUnderTest } from '../stack/index.ts';
import { connectTarget, type Target } from '../stack/target.ts';
import { checkFaultConnectorMode, parseFaultSpec, type FaultSpec } from '../faults/spec.ts';
import { stackNeeds } from '../faults/nemesis.ts';
import { stackDefectsFor, type MutantName } from './mutants.ts';
import { runWorkload } from './run.ts';
import { defaultWorkers } from '../workload/worker-pool.ts';
import type { ScenarioDefinition, ScenarioOptions, Thresholds } from './scenario.ts';

export interface ExecuteInput {
  scenario: ScenarioDefinition;
  overrides: Partial<Omit<ScenarioOptions, 'seed'>>;
  seed: number;
  /** --threshold flags, "metric=expr". */
  thresholdFlags: readonly string[];
  mutants: readonly MutantName[];
  /** --fault flags, added to the scenario's own faults. */
  faults?: readonly string[];
  outDir?: string;
  /** Run against a deployment the harness does not start (see harness/stack/target.ts). */
  target?: Target;
  stackOpts: Pick<StackOptions, 'pg' | 'databaseUrl' | 'rulesFile' | 'schema' | 'keep' | 'connectorMode' | 'eventInvokeConfig'>;
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
  const faults: FaultSpec[] = [...(sc.faults?.(options) ?? []), ...(input.faults ?? [])].map((f) => parseFaultSpec(f, input.target ? [] : FAULT_TARGETS));
  const { defects, connectorMode } = stackDefectsFor(input.mutants);
  const captureMode = connectorMode ?? input.stackOpts.connectorMode ?? sc.stack?.connectorMode ?? 'durable';
  if (!input.target) for (const f of faults) checkFaultConnectorMode(f, captureMode);
  print(`scenario ${sc.name}  seed ${options.seed}  rate ${options.rate}/s  ${options.rooms} rooms x ${options.users} users + ${options.readers} readers  ${(options.durationMs / 1000).toFixed(0)} s` +
    (input.mutants.length ? `  mutants: ${input.mutants.join(', ')}` : '') +
    `  workers ${options.workers ?? defaultWorkers()}  readers: ${options.readerClient ?? 'sdk'}` + '\n');
  if (sc.guarantee && !input.quiet) print(`guarantee: ${sc.guarantee}\n`);
  if (faults.length && !input.quiet) print(`faults: ${faults.map((f) => f.raw).join('  ')}\n`);
  const clientFaults = faults.filter((f) => f.name.startsWith('rt-') || (f.name.startsWith('net-') && f.value?.startsWith('clients-realtime')));
  if (options.readerClient === 'light' && clientFaults.length) {
    // A light reader neither resumes nor reconnects: such a fault would end its subscription, not test it.
    throw new Error(`light readers do not resume or reconnect; faults on client connections (${clientFaults.map((f) => f.raw).join(', ')}) need --reader-client sdk`);
  }
  if (input.target && input.mutants.length) {
    throw new Error('mutants need a stack the harness starts itself; drop --target or them');
  }
  const needs = stackNeeds(faults);
  // A stack the harness starts is both the system under test and the faults' targets; a target is only the former.
  let local: StartedStack | undefined;
  let stack: SystemUnderTest;
  if (input.target) stack = connectTarget(input.target);
  else {
    stack = local = await startStack({
      ...(sc.stack ?? {}),
      ...input.stackOpts,
      ...needs,
      connectors: Math.max(sc.stack?.connectors ?? 1, needs.connectors ?? 1),
      defects,
      seed: input.seed,
      ...(connectorMode ? { connectorMode } : {}),
      onProgress: (m) => input.quiet || print(`[stack] ${m}\n`),
    });
  }
  let run;
  try {
    run = await runWorkload({
      scenario: sc,
      options,
      outDir,
      stack,
      ...(local ? { faultTargets: local } : {}),
      ...(sc.quietTimeoutMs ? { quietTimeoutMs: sc.quietTimeoutMs } : {}),
      mutants: input.mutants,
      faults,
      progress: (line) => input.quiet || print(`${line}\n`),
    });
  } finally {
    await local?.stop();
    // Printed even when quiet: a kept schema is the user's to drop, and only this line names it.
    if (local?.postgres.kept) print(`kept schema ${local.postgres.schema} (drop it with: DROP SCHEMA ${local.postgres.schema} CASCADE)\n`);
  }
  const { history, final } = await readRun(outDir);
  const report = evaluateRun({
    history,
    final,
    scenario: sc.name,
    thresholds,
    environment: collectEnvironment({
      stack: local ? { postgres: local.postgres.provider, rules: input.stackOpts.rulesFile ?? sc.stack?.rulesFile ?? 'chat-rules.json', connectorMode: captureMode, connectors: local.connectors.length } : { target: { realtime: input.target?.realtime.host ?? 'Ably', functions: new URL(stack.endpoints.loginUrl).origin } },
      generator: { workers: run.generator.workers, readerClient: run.generator.readerClient },
    }),
    options: { ...options, mutants: input.mutants, faults: faults.map((f) => f.raw), executor: { ...run.executor } },
  });
  await writeReport(outDir, report);
  if (!input.quiet) {
    print(formatSummary(report, { runDir: outDir }) + '\n');
    if (report.faults.length) print(formatFaults(report) + '\n');
    const g = report.integration;
    if (g) {
      print(
        `integration (what the writer saw): ${g.messages} messages, ${g.outOfOrder} out of order (${(g.outOfOrderRate * 100).toFixed(2)}%), ` +
          `${g.duplicateDeliveries} duplicate deliveries, ${g.editsBeforePost} edits before their post, ${g.retries} retries, ${g.dropped} envelopes dropped\n`,
      );
    }
    for (const e of run.faultErrors) print(`fault error: ${e}\n`);
  }
  // A fault that could not be injected, or whose floor was not met, leaves the run untested.
  const faultFailed = run.faultErrors.length > 0 ? 1 : 0;
  return { report, exitCode: exitCodeFor(report.checks, report.thresholds) || faultFailed, outDir };
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

function formatFaults(report: Report): string {
  const s = (ms: number | null) => (ms === null ? '   -   ' : `${(ms / 1000).toFixed(2).padStart(6)}s`);
  const lines = report.faults.map((f) => `${f.name.padEnd(22)} ${s(f.start)} ${s(f.end)}  ${f.detail ?? ''}`);
  return [`${'fault'.padEnd(22)} ${'start'.padStart(7)} ${'end'.padStart(7)}  what happened`, ...lines].join('\n');
}
