/**
 * Baseline files (fixtures/baselines/<name>.json): per scenario, the options it was run with and
 * every repeated run's figures, plus the machine they came from. The figures of a baseline are
 * only comparable on the same kind of machine; the gate warns when they are not.
 */
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import { dirname } from 'node:path';
import { z } from 'zod';
import { GATE_METRIC_NAMES, type GateMetric } from './metrics.ts';

const Machine = z.object({
  cpuModel: z.string(),
  cpus: z.number().int().positive(),
  node: z.string(),
  platform: z.string(),
  arch: z.string(),
  memoryGiB: z.number(),
});
export type Machine = z.infer<typeof Machine>;

const ScenarioOptions = z.object({
  durationMs: z.number().positive(),
  rate: z.number().positive(),
  users: z.number().int().nonnegative(),
  rooms: z.number().int().positive(),
  readers: z.number().int().nonnegative(),
});
export type BaselineScenarioOptions = z.infer<typeof ScenarioOptions>;

const Samples = z.partialRecord(z.enum(GATE_METRIC_NAMES as [GateMetric, ...GateMetric[]]), z.array(z.number()));

const ScenarioEntry = z.object({
  options: ScenarioOptions,
  /** Seed of each repeat: the gate replays the same seeds so that both sides ran the same workload. */
  seeds: z.array(z.number().int().nonnegative()).min(1),
  samples: Samples,
});
export type BaselineScenario = z.infer<typeof ScenarioEntry>;

/** Defaults this baseline was made for (CI's is more tolerant); command-line flags win. */
const GateDefaults = z.object({
  tolerance: z.number().positive().optional(),
  confidence: z.number().gt(0).lt(1).optional(),
  minChangeMs: z.number().nonnegative().optional(),
  repeat: z.number().int().positive().optional(),
});
export type GateDefaults = z.infer<typeof GateDefaults>;

export const BaselineSchema = z.object({
  kind: z.literal('editable-chat-gate-baseline'),
  version: z.literal(1),
  createdAt: z.string(),
  machine: Machine,
  note: z.string().optional(),
  gate: GateDefaults.default({}),
  scenarios: z.record(z.string(), ScenarioEntry),
});
export type Baseline = z.infer<typeof BaselineSchema>;

export function currentMachine(): Machine {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cpus: cpus.length,
    node: process.versions.node,
    platform: `${os.platform()} ${os.release()}`,
    arch: os.arch(),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
  };
}

/** Differences that make timings incomparable (kernel patch levels and memory size are left out). */
export function machineDifferences(baseline: Machine, current: Machine): string[] {
  const out: string[] = [];
  if (baseline.cpuModel !== current.cpuModel) out.push(`cpu '${baseline.cpuModel}' vs '${current.cpuModel}'`);
  if (baseline.cpus !== current.cpus) out.push(`${baseline.cpus} vs ${current.cpus} cores`);
  if (baseline.node.split('.')[0] !== current.node.split('.')[0]) out.push(`node ${baseline.node} vs ${current.node}`);
  if (baseline.arch !== current.arch) out.push(`${baseline.arch} vs ${current.arch}`);
  return out;
}

export async function readBaseline(path: string): Promise<Baseline> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new Error(e.code === 'ENOENT' ? `baseline ${path} does not exist (make one with --update-baseline)` : `baseline ${path}: ${e.message}`);
  }
  const parsed = BaselineSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`baseline ${path}: field '${issue.path.map(String).join('.') || '(root)'}': ${issue.message}`);
  }
  return parsed.data;
}

export async function writeBaseline(path: string, b: Baseline): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, JSON.stringify(BaselineSchema.parse(b), null, 2) + '\n');
}
