/**
 * The capacity sweep: one stack, the scenario at increasing offered rates (fresh rooms each step),
 * until the SLO breaks, a check fails, operations fail or drop, or the generator saturates; then
 * a few bisection steps between the last pass and the first failure to place the knee.
 */
import os from 'node:os';
import { join } from 'node:path';
import type { ThresholdSpec } from '../checks/thresholds.ts';
import { measureRun } from '../gate/measure.ts';
import { SATURATION } from '../report/build.ts';
import type { Report } from '../report/types.ts';
import type { ScenarioDefinition, ScenarioOptions } from '../runner/scenario.ts';
import { startStack, type StackOptions, type StartedStack } from '../stack/index.ts';
import { DEFAULT_WORKERS as DEFAULT_LAMBDA_WORKERS } from '../lambda/index.ts';
import { defaultWorkers } from '../workload/worker-pool.ts';
import type { ReaderClient } from '../workload/user.ts';
import type { MachineShape } from './attribute.ts';
import { findKnee, stepVerdict } from './knee.ts';
import { localPostmaster } from './local-postgres.ts';
import { ResourceSampler, summarizeSamples } from './sampler.ts';
import type { KneeResult, StepResult } from './types.ts';

export interface SweepInput {
  scenario: ScenarioDefinition;
  startRate: number;
  stepRate: number;
  maxRate: number;
  stepDurationMs: number;
  slo: ThresholdSpec;
  /** One rate series per value (default: the scenario's users per room). */
  usersPerRoom?: readonly number[];
  rooms?: number;
  readers?: number;
  /** Bisection steps between the last pass and the first failure. */
  refine: number;
  seed: number;
  outDir: string;
  stackOpts?: Pick<StackOptions, 'pg' | 'databaseUrl' | 'rulesFile' | 'connectorMode' | 'lambdaWorkers'>;
  /** The client reader-only users run (default: defaultReaderClient(scenario), light unless the scenario schedules faults). */
  readerClient?: ReaderClient;
  /** Worker threads for the virtual users (default: from the machine's cores). */
  workers?: number;
  /** Unmeasured run at the first rate before the steps, so JIT, pools and caches are warm in every measured step (0: none). */
  warmupMs?: number;
  print?: (line: string) => void;
}

export interface SweepOutput {
  steps: StepResult[];
  knees: KneeResult[];
  cores: number;
  machine: MachineShape;
  parts: string[];
}

/** Bounds every sweep whatever the flags: steps per series and bisections. */
export const MAX_STEPS_PER_SERIES = 40;
export const DEFAULT_WARMUP_MS = 2000;
/**
 * Readers only receive in a sweep, and the light client costs the generator far less per delivery
 * than the SDK, so it is the default; writers stay SDK clients. A scenario that schedules its own
 * faults keeps SDK readers: resuming after a dropped connection is then part of what it tests.
 */
export function defaultReaderClient(sc: Pick<ScenarioDefinition, 'faults'>): ReaderClient {
  return sc.faults ? 'sdk' : 'light';
}

async function counters(stack: StartedStack): Promise<{ lambda: number | null; rin: number | null; rout: number | null }> {
  const lambda = stack.lambda ? (await stack.lambda.stats('chat-writer')).invocations : null;
  let rin: number | null = null;
  let rout: number | null = null;
  if (stack.realtime) {
    const text = await stack.realtime.metricsText();
    const read = (name: string) => {
      const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
      return m ? Number(m[1]) : null;
    };
    rin = read('realtime_messages_in_total');
    rout = read('realtime_messages_out_total');
  }
  return { lambda, rin, rout };
}

const delta = (a: number | null, b: number | null) => (a === null || b === null ? null : b - a);

export async function runSweep(input: SweepInput): Promise<SweepOutput> {
  const print = input.print ?? (() => {});
  const sc = input.scenario;
  const cores = os.cpus().length;
  const machine: MachineShape = {
    cores,
    lambdaWorkers: input.stackOpts?.lambdaWorkers ?? DEFAULT_LAMBDA_WORKERS,
    generatorWorkers: input.workers ?? defaultWorkers(),
  };
  const usersSeries = input.usersPerRoom?.length ? input.usersPerRoom : [sc.defaults.users];
  const stack = await startStack({ ...input.stackOpts });
  const own = stack.processes();
  const external = own.some((p) => /^postgres/.test(p.part)) ? undefined : await localPostmaster(stack.endpoints.databaseUrl);
  const extra = external ? [{ part: 'postgres (not started by the harness)', pid: external }] : [];
  const sampler = new ResourceSampler(() => [...stack.processes(), ...extra]);
  sampler.start();
  const steps: StepResult[] = [];
  const parts = new Set<string>();
  try {
    const warmupMs = input.warmupMs ?? DEFAULT_WARMUP_MS;
    if (warmupMs > 0) {
      // The first run on a fresh stack pays for JIT and connection set-up: without this, step 1 looks slower than step 2.
      print(`warm-up: ${(warmupMs / 1000).toFixed(1)} s at ${input.startRate}/s (not measured)`);
      await measureRun({
        stack,
        scenario: sc,
        options: optionsFor(input, usersSeries[0]!, input.startRate, warmupMs, 999_999),
        outDir: join(input.outDir, 'warmup'),
        thresholds: {},
      });
    }
    for (const users of usersSeries) {
      const runStep = async (rate: number, refinement: boolean): Promise<StepResult> => {
        const index = steps.length + 1;
        const dir = join(input.outDir, `step-${String(index).padStart(2, '0')}-u${users}-r${rate}`);
        const before = await counters(stack);
        print(`step ${String(index).padStart(2)}${refinement ? '*' : ' '} users/room ${users}  rate ${rate}/s: running ${(input.stepDurationMs / 1000).toFixed(1)} s`);
        const { report, loadWindow } = await measureRun({
          // The runner's once-a-second line (rate, p99, errors) inside a step; its phase lines add nothing here.
          progress: (line) => {
            if (/^\s*\d+s\s/.test(line)) print(`      ${line.trim()}`);
          },
          stack,
          scenario: sc,
          options: optionsFor(input, users, rate, input.stepDurationMs, input.seed + index),
          outDir: dir,
          thresholds: input.slo,
          environment: { capacity: { step: index, rate, usersPerRoom: users } },
        });
        const after = await counters(stack);
        const resources = loadWindow ? sampler.summarize(loadWindow.fromEpochMs, loadWindow.toEpochMs) : summarizeSamples([]);
        for (const p of resources.parts) parts.add(p.part);
        const e2e = report.latency.e2e;
        const base = {
          index,
          usersPerRoom: users,
          targetRate: rate,
          durationMs: input.stepDurationMs,
          refinement,
          dir,
          achieved: { opsPerSec: report.throughput.opsPerSec, deliveriesPerSec: report.throughput.deliveriesPerSec },
          e2e: { p50: e2e?.p50 ?? 0, p90: e2e?.p90 ?? 0, p99: e2e?.p99 ?? 0, max: e2e?.max ?? 0, count: e2e?.count ?? 0 },
          stageP99: Object.fromEntries(Object.entries(report.latency).map(([k, v]) => [k, v.p99])),
          counts: {
            sent: report.counts.sent,
            committed: report.counts.committed,
            delivered: report.counts.delivered,
            lost: report.counts.lost,
            failed: report.counts.failed,
            dropped: report.counts.dropped,
            rejected: report.counts.rejected,
          },
          checksFailed: report.checks.filter((c) => c.valid !== true).map((c) => c.name),
          slo: report.thresholds,
          generator: { saturated: generatorSaturated(report), maxEventLoopDelayP99Ms: report.generator.maxEventLoopDelayP99Ms, maxCpuPercent: report.generator.maxCpuPercent },
          resources,
          traffic: { lambdaInvocations: delta(before.lambda, after.lambda), realtimeIn: delta(before.rin, after.rin), realtimeOut: delta(before.rout, after.rout) },
        };
        const step: StepResult = { ...base, ...stepVerdict(base) };
        steps.push(step);
        print(progressLine(step));
        return step;
      };
      // A step that failed only because the generator stalled says nothing about the stack: it is
      // run once more (the first attempt stays in the table, marked, and out of the knee).
      const measureStep = async (rate: number, refinement: boolean): Promise<StepResult> => {
        const s = await runStep(rate, refinement);
        if (s.verdict !== 'generator-saturated' || s.reasons.length > 1) return s;
        s.superseded = true;
        print(`step ${String(s.index).padStart(2)}: only the generator failed; repeating the rate once`);
        return runStep(rate, refinement);
      };

      let lastPass: number | undefined;
      let firstFail: number | undefined;
      for (let i = 0, rate = input.startRate; rate <= input.maxRate + 1e-9 && i < MAX_STEPS_PER_SERIES; i++, rate = input.startRate + i * input.stepRate) {
        const s = await measureStep(round(rate), false);
        if (s.verdict !== 'pass') {
          firstFail = s.targetRate;
          break;
        }
        lastPass = s.targetRate;
      }
      for (let i = 0; i < input.refine && lastPass !== undefined && firstFail !== undefined; i++) {
        const mid = round((lastPass + firstFail) / 2);
        if (mid <= lastPass || mid >= firstFail) break;
        const s = await measureStep(mid, true);
        if (s.verdict === 'pass') lastPass = mid;
        else firstFail = mid;
      }
    }
  } finally {
    sampler.stop();
    await stack.stop();
  }
  return { steps, knees: usersSeries.map((u) => findKnee(steps, u, machine)), cores, machine, parts: [...parts] };
}

/**
 * Saturated for the sweep's purpose: at least two seconds over the report's limits. One stalled
 * second (a GC pause, another process taking the core) is noise that would stop the climb early.
 */
export function generatorSaturated(report: Pick<Report, 'timeline'>): boolean {
  const over = report.timeline.points.filter(
    (p) => (p.eventLoopDelayP99Ms ?? 0) > SATURATION.eventLoopDelayP99Ms || (p.cpuPercent ?? 0) > SATURATION.cpuPercent,
  );
  return over.length >= 2;
}

function optionsFor(input: SweepInput, users: number, rate: number, durationMs: number, seed: number): ScenarioOptions {
  return {
    ...input.scenario.defaults,
    ...(input.rooms !== undefined ? { rooms: input.rooms } : {}),
    ...(input.readers !== undefined ? { readers: input.readers } : {}),
    ...(input.workers !== undefined ? { workers: input.workers } : {}),
    readerClient: input.readerClient ?? defaultReaderClient(input.scenario),
    users,
    rate,
    durationMs,
    seed,
  };
}

/** Rates keep one decimal: bisection halves, flags may be fractional. */
const round = (x: number) => Math.round(x * 10) / 10;

function progressLine(s: StepResult): string {
  const parts = s.resources.parts.map((p) => `${shortPart(p.part)} ${p.cpuAvgPercent.toFixed(0)}%`).join(' ');
  return (
    `step ${String(s.index).padStart(2)}${s.refinement ? '*' : ' '} users/room ${s.usersPerRoom}  rate ${String(s.targetRate).padStart(6)}/s  ` +
    `achieved ${s.achieved.opsPerSec.toFixed(1).padStart(6)} ops/s  e2e p50 ${s.e2e.p50.toFixed(1).padStart(6)} p99 ${s.e2e.p99.toFixed(1).padStart(7)} ms  ` +
    `cpu: ${parts} elu ${(s.resources.harnessEluAvg * 100).toFixed(0)}%  -> ${s.verdict === 'pass' ? 'pass' : `STOP: ${s.reasons.join('; ')}`}`
  );
}

export function shortPart(part: string): string {
  return part.replace(/\s*\(.*\)$/, '');
}
