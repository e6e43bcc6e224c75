/**
 * The regression gate: run each chosen scenario N times on one stack per scenario, judge every
 * run (checkers, thresholds), and compare the runs' figures with the committed baseline; or, with
 * updateBaseline, record them as the new baseline.
 */
import { join } from 'node:path';
import { mergeThresholds } from '../checks/thresholds.ts';
import { findScenario, scenarios as allScenarios } from '../../scenarios/index.ts';
import type { ScenarioOptions } from '../runner/scenario.ts';
import { startStack, type StackOptions } from '../stack/index.ts';
import { currentMachine, machineDifferences, readBaseline, writeBaseline, type Baseline, type BaselineScenarioOptions } from './baseline.ts';
import { compareMetric, type MetricComparison } from './compare.ts';
import { measureRun } from './measure.ts';
import { GATE_METRIC_NAMES, JUDGED_METRICS, readGateMetrics, type GateMetric } from './metrics.ts';

export const GATE_DEFAULTS = { scenarios: ['steady', 'edit-storm'], repeat: 3, tolerance: 0.2, confidence: 0.9, minChangeMs: 1, seed: 1, warmupMs: 2000 } as const;

export interface GateInput {
  baselinePath: string;
  scenarios?: readonly string[];
  repeat?: number;
  tolerance?: number;
  confidence?: number;
  minChangeMs?: number;
  updateBaseline?: boolean;
  /** Load duration of each run; by default the baseline's (or the scenario's). */
  durationMs?: number;
  /** First seed; repeat i uses seed + i (when comparing, the baseline's seeds are replayed). */
  seed?: number;
  /** Recorded in a baseline being written (e.g. where and how it was made). */
  note?: string;
  /** Added latency of every chat-writer invocation: a planted slowdown, to prove the gate catches one. */
  plantLambdaDelayMs?: number;
  /** Threshold flags (`metric=expr`, as `--threshold` of a scenario) replacing the scenarios' own for their metric. */
  thresholds?: readonly string[];
  /** Unmeasured run before the repeats, so JIT, pools and caches are warm in every measured run (0: none). */
  warmupMs?: number;
  outDir: string;
  stackOpts?: Pick<StackOptions, 'pg' | 'databaseUrl'>;
  print?: (line: string) => void;
}

export interface GateRun {
  dir: string;
  seed: number;
  exitCode: 0 | 1 | 99;
  failedChecks: string[];
  failedThresholds: string[];
  metrics: Partial<Record<GateMetric, number>>;
}

export interface ScenarioGate {
  scenario: string;
  options: BaselineScenarioOptions;
  runs: GateRun[];
  comparisons: MetricComparison[];
  exitCode: 0 | 1 | 99;
}

export interface GateSettings {
  repeat: number;
  tolerance: number;
  confidence: number;
  minChangeMs: number;
}

export interface GateResult {
  mode: 'compare' | 'update-baseline';
  exitCode: 0 | 1 | 99;
  baselinePath: string;
  settings: GateSettings;
  warnings: string[];
  plantLambdaDelayMs: number;
  scenarios: ScenarioGate[];
  outDir: string;
  startedAt: string;
  durationMs: number;
}

export class GateUsageError extends Error {}

const worst = (codes: readonly (0 | 1 | 99)[]): 0 | 1 | 99 => (codes.includes(1) ? 1 : codes.includes(99) ? 99 : 0);

function pickOptions(defaults: Omit<ScenarioOptions, 'seed'>, baseline: BaselineScenarioOptions | undefined, durationMs: number | undefined): BaselineScenarioOptions {
  const from = baseline ?? defaults;
  return { durationMs: durationMs ?? from.durationMs, rate: from.rate, users: from.users, rooms: from.rooms, readers: from.readers };
}

export async function runGate(input: GateInput): Promise<GateResult> {
  const print = input.print ?? (() => {});
  const t0 = performance.now();
  const startedAt = new Date().toISOString();
  const update = input.updateBaseline ?? false;
  let baseline: Baseline | undefined;
  try {
    baseline = await readBaseline(input.baselinePath);
  } catch (err) {
    if (!update) throw new GateUsageError((err as Error).message);
  }
  const names = input.scenarios ?? (baseline && !update ? Object.keys(baseline.scenarios) : GATE_DEFAULTS.scenarios);
  for (const n of names) {
    if (!findScenario(n)) throw new GateUsageError(`--scenarios: unknown scenario '${n}'; expected some of ${allScenarios.map((s) => s.name).join(', ')}`);
    if (!update && baseline && !baseline.scenarios[n]) {
      throw new GateUsageError(`--scenarios: the baseline ${input.baselinePath} has no '${n}' (it has ${Object.keys(baseline.scenarios).join(', ')}); add it with --update-baseline`);
    }
  }
  const settings: GateSettings = {
    repeat: input.repeat ?? baseline?.gate.repeat ?? GATE_DEFAULTS.repeat,
    tolerance: input.tolerance ?? baseline?.gate.tolerance ?? GATE_DEFAULTS.tolerance,
    confidence: input.confidence ?? baseline?.gate.confidence ?? GATE_DEFAULTS.confidence,
    minChangeMs: input.minChangeMs ?? baseline?.gate.minChangeMs ?? GATE_DEFAULTS.minChangeMs,
  };
  const warnings: string[] = [];
  const machine = currentMachine();
  if (baseline && !update) {
    const diff = machineDifferences(baseline.machine, machine);
    if (diff.length) warnings.push(`the baseline was made on another machine (${diff.join('; ')}): timings may differ for that reason alone`);
  }
  const plant = input.plantLambdaDelayMs ?? 0;
  if (plant > 0) warnings.push(`planted slowdown: every chat-writer invocation is delayed by ${plant} ms (--plant-lambda-delay, for proving the gate)`);
  if (update && plant > 0) throw new GateUsageError('--plant-lambda-delay cannot be combined with --update-baseline: a planted slowdown must never become the baseline');

  const results: ScenarioGate[] = [];
  for (const name of names) {
    const scenario = findScenario(name)!;
    const entry = update ? undefined : baseline?.scenarios[name];
    const options = pickOptions(scenario.defaults, entry?.options, input.durationMs);
    if (entry && input.durationMs !== undefined && input.durationMs !== entry.options.durationMs) {
      warnings.push(`${name}: runs last ${input.durationMs} ms but the baseline's lasted ${entry.options.durationMs} ms; figures may differ for that reason alone`);
    }
    const seeds = Array.from({ length: settings.repeat }, (_, i) => (entry ? entry.seeds[i % entry.seeds.length]! : (input.seed ?? GATE_DEFAULTS.seed) + i));
    print(`gate: ${name} x${settings.repeat}  rate ${options.rate}/s  ${(options.durationMs / 1000).toFixed(1)} s each${plant ? `  (planted lambda delay ${plant} ms)` : ''}`);
    // One stack serves every repeat: its rule delivery and connector backoff follow the first seed.
    const stack = await startStack({ ...input.stackOpts, seed: seeds[0]! });
    const runs: GateRun[] = [];
    try {
      if (plant > 0) await stack.lambda?.setFault('chat-writer', { delayMs: plant });
      const warmupMs = Math.min(input.warmupMs ?? GATE_DEFAULTS.warmupMs, options.durationMs);
      if (warmupMs > 0) {
        // The first run on a fresh stack pays for JIT and connection set-up: keep it out of the samples.
        await measureRun({ stack, scenario, options: { ...options, durationMs: warmupMs, seed: 999_999 }, outDir: join(input.outDir, `${name}-warmup`), thresholds: {} });
      }
      for (let i = 0; i < seeds.length; i++) {
        const dir = join(input.outDir, `${name}-${i + 1}`);
        const { report } = await measureRun({
          stack,
          scenario,
          options: { ...options, seed: seeds[i]! },
          outDir: dir,
          thresholds: mergeThresholds(scenario.thresholds, input.thresholds ?? []),
          environment: { gate: { repeat: i + 1, of: seeds.length, plantLambdaDelayMs: plant } },
        });
        const run: GateRun = {
          dir,
          seed: seeds[i]!,
          exitCode: report.exitCode,
          failedChecks: report.checks.filter((c) => c.valid !== true).map((c) => c.name),
          failedThresholds: report.thresholds.filter((t) => !t.passed).map((t) => `${t.metric} ${t.expr} (value ${t.value ?? 'no data'})`),
          metrics: readGateMetrics(report),
        };
        runs.push(run);
        const m = run.metrics;
        print(
          `  run ${i + 1}/${seeds.length}  seed ${run.seed}  e2e p50 ${fmt(m.e2e_p50)} p99 ${fmt(m.e2e_p99)} (${fmt(m.e2e_floor_ratio)}x floor)  edit p99 ${fmt(m.edit_propagation_p99)} ms  ` +
            `${fmt(m.deliveries_per_sec)} deliveries/s  ${run.exitCode === 0 ? 'ok' : run.exitCode === 99 ? 'THRESHOLD FAILED' : 'CHECK FAILED'}`,
        );
      }
    } finally {
      await stack.stop();
    }
    const comparisons = entry
      ? JUDGED_METRICS.filter((m) => (entry.samples[m]?.length ?? 0) > 0 || runs.some((r) => r.metrics[m] !== undefined)).map((m) =>
          compareMetric(m, entry.samples[m] ?? [], samplesOf(runs, m), settings),
        )
      : [];
    const runCode = worst(runs.map((r) => r.exitCode));
    const regressed = comparisons.some((c) => c.verdict === 'regressed');
    results.push({ scenario: name, options, runs, comparisons, exitCode: regressed ? 1 : runCode });
  }

  const exitCode = worst(results.map((r) => r.exitCode));
  if (update) {
    if (exitCode !== 0) {
      warnings.push('the baseline was NOT written: a run failed a check or a threshold, and a failing run must not become the baseline');
    } else {
      const next: Baseline = {
        kind: 'editable-chat-gate-baseline',
        version: 1,
        createdAt: startedAt,
        machine,
        ...(input.note ?? baseline?.note ? { note: input.note ?? baseline?.note } : {}),
        // Settings given for this baseline become its defaults (a CI baseline carries its generous tolerance).
        gate: {
          ...baseline?.gate,
          ...(input.repeat !== undefined ? { repeat: input.repeat } : {}),
          ...(input.tolerance !== undefined ? { tolerance: input.tolerance } : {}),
          ...(input.confidence !== undefined ? { confidence: input.confidence } : {}),
          ...(input.minChangeMs !== undefined ? { minChangeMs: input.minChangeMs } : {}),
        },
        scenarios: { ...baseline?.scenarios },
      };
      for (const r of results) {
        next.scenarios[r.scenario] = {
          options: r.options,
          seeds: r.runs.map((x) => x.seed),
          samples: Object.fromEntries(GATE_METRIC_NAMES.map((m) => [m, samplesOf(r.runs, m)] as const).filter(([, v]) => v.length > 0)),
        };
      }
      await writeBaseline(input.baselinePath, next);
    }
  }
  return {
    mode: update ? 'update-baseline' : 'compare',
    exitCode,
    baselinePath: input.baselinePath,
    settings,
    warnings,
    plantLambdaDelayMs: plant,
    scenarios: results,
    outDir: input.outDir,
    startedAt,
    durationMs: Math.round(performance.now() - t0),
  };
}

function samplesOf(runs: readonly GateRun[], m: GateMetric): number[] {
  return runs.flatMap((r) => (r.metrics[m] === undefined ? [] : [r.metrics[m]!]));
}

function fmt(x: number | undefined): string {
  return x === undefined ? '-' : x.toFixed(1);
}
