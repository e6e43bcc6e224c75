/**
 * Which part of the stack limited a sweep, from two kinds of evidence: each part's CPU as a share
 * of what it can actually use, and which pipeline stage's latency grew most between the last good
 * and the first bad step. The generator (the harness's own virtual users) is named only when its
 * health or its CPU says so, and then plainly: the sweep did not measure the stack.
 */
import type { Saturation, StepResult } from './types.ts';

/** Share of a part's capacity at which it counts as saturated. */
export const SATURATED_AT = 0.85;

export const HARNESS = /^harness/;
export const MACHINE = 'machine (all cores)';

/** What the parts of this run can use: the machine's cores and the threads the parts were given. */
export interface MachineShape {
  cores: number;
  /** Worker threads of the Lambda runtime (Lambda instances of chat-writer). */
  lambdaWorkers: number;
  /** Worker threads running virtual users (0: the main thread runs them). */
  generatorWorkers: number;
}

/** How many cores a part can keep busy, and why. */
export function coresOf(part: string, m: MachineShape): { cores: number; why: string } {
  if (HARNESS.test(part)) {
    const threads = Math.max(1, m.generatorWorkers);
    return { cores: Math.min(threads, m.cores), why: `${threads} generator thread(s) on ${m.cores} cores` };
  }
  if (/^lambda/.test(part)) return { cores: Math.min(Math.max(1, m.lambdaWorkers), m.cores), why: `${m.lambdaWorkers} workers on ${m.cores} cores` };
  if (/^postgres/.test(part)) return { cores: m.cores, why: `its processes, of the machine's ${m.cores} cores` };
  return { cores: 1, why: 'single-threaded Node' };
}

/**
 * Each part's CPU as a share of what it can use. The harness counts the busier of that and its
 * main thread's event loop: the recorder runs there, and a full loop stalls every worker's events.
 */
export function utilizations(step: StepResult, m: MachineShape): Saturation['ranking'] {
  const out: Saturation['ranking'] = [];
  for (const p of step.resources.parts) {
    const c = coresOf(p.part, m);
    const share = p.cpuAvgPercent / (100 * c.cores);
    const basis = `CPU ${p.cpuAvgPercent.toFixed(0)}% of one core = ${(share * 100).toFixed(0)}% of ${c.cores} core(s) (${c.why})`;
    const elu = step.resources.harnessEluAvg;
    if (HARNESS.test(p.part) && elu > share) out.push({ part: p.part, utilization: elu, basis: `main thread's event loop ${(elu * 100).toFixed(0)}% busy; ${basis}` });
    else out.push({ part: p.part, utilization: share, basis });
  }
  const machine = step.resources.machineCpuAvgPercent;
  if (machine !== null) out.push({ part: MACHINE, utilization: machine / 100, basis: `${machine.toFixed(0)}% of all ${m.cores} cores busy` });
  return out.sort((a, b) => b.utilization - a.utilization);
}

/**
 * The parts each stage's time is spent in. The realtime service acknowledges a publish as it
 * accepts it, and its integration rules run in the same process: publish->ack grows when that
 * process (ingress or rules) queues. ack->commit spans the rules' invocation, the Lambda runtime
 * and Postgres; commit->publish the connector; publish->receive the service's fan-out.
 */
export const STAGE_PARTS: Record<string, RegExp> = {
  invokeToAck: /^realtime/,
  ackToCommit: /^(realtime|lambda|postgres)/,
  commitToPublish: /^connector/,
  publishToReceive: /^realtime/,
};

export const STAGE_LABEL: Record<string, string> = {
  invokeToAck: 'publish->ack (realtime ingress and its integration rules)',
  ackToCommit: 'ack->commit (integration rules, Lambda, Postgres)',
  commitToPublish: 'commit->publish (connector)',
  publishToReceive: 'publish->receive (realtime fan-out)',
};

export type StageGrowth = NonNullable<Saturation['slowestGrowingStage']>;

/** Each stage's p99 at the last good step and at the first bad one, largest growth first. */
export function stageGrowth(good: StepResult | null, bad: StepResult): StageGrowth[] {
  if (!good || good === bad) return [];
  const out: StageGrowth[] = [];
  for (const stage of Object.keys(STAGE_PARTS)) {
    const toMs = bad.stageP99[stage];
    const fromMs = good.stageP99[stage];
    if (toMs === undefined || fromMs === undefined) continue;
    out.push({ stage, fromMs, toMs, fromRate: good.targetRate, toRate: bad.targetRate });
  }
  return out.sort((a, b) => b.toMs - b.fromMs - (a.toMs - a.fromMs));
}

/** Names the part that limited the series at step `bad` (the last good step before it: `good`). */
export function attribute(good: StepResult | null, bad: StepResult, m: MachineShape): Saturation {
  const ranking = utilizations(bad, m);
  const stack = ranking.filter((r) => r.part !== MACHINE && !HARNESS.test(r.part));
  const harness = ranking.find((r) => HARNESS.test(r.part));
  const machine = ranking.find((r) => r.part === MACHINE);
  const growth = stageGrowth(good, bad);
  const busyNote = machineNote(bad, m);
  const grew = standsOut(growth);
  const base = { atRate: bad.targetRate, ranking, slowestGrowingStage: grew, ownLimit: ownLimit(good ?? bad, m), stageGrowth: growth };

  // A generator that could not keep up offered less than the rate: the step says nothing of the stack.
  if (bad.generator.saturated || (harness && harness.utilization >= SATURATED_AT && harness === ranking.filter((r) => r.part !== MACHINE)[0])) {
    const part = harness?.part ?? 'harness (generator)';
    const health = bad.generator.saturated
      ? `its health failed (event-loop delay p99 ${bad.generator.maxEventLoopDelayP99Ms.toFixed(0)} ms, a thread at ${bad.generator.maxCpuPercent.toFixed(0)}% of a core)`
      : `it used ${harness!.basis}`;
    return {
      ...base,
      part,
      utilization: harness?.utilization ?? 1,
      saturated: true,
      namedBy: 'generator',
      evidence: `the load generator, not the stack, limited this sweep: ${health}; the stack's figures at this rate do not show its capacity${busyNote}`,
    };
  }

  const cpuTop = stack[0];
  if (cpuTop && cpuTop.utilization >= SATURATED_AT) {
    const agree = grew ? stagePart(grew, stack) : null;
    const also = grew ? `; the stage that grew most was ${describeGrowth(grew)}${agree && agree.part !== cpuTop.part ? `, which points at ${agree.part}` : ''}` : '';
    return { ...base, part: cpuTop.part, utilization: cpuTop.utilization, saturated: true, namedBy: 'cpu', evidence: `${cpuTop.part} used ${cpuTop.basis}${also}${busyNote}` };
  }

  const exhausted = machine !== undefined && machine.utilization >= SATURATED_AT;
  if (grew) {
    const named = stagePart(grew, stack) ?? { part: 'unknown', utilization: 0, basis: 'no CPU samples for its parts' };
    return {
      ...base,
      part: named.part,
      utilization: named.utilization,
      saturated: exhausted,
      namedBy: 'stage-latency',
      evidence: `${describeGrowth(grew)} grew most; of its parts ${named.part} was busiest (${named.basis}); no part reached ${pct(SATURATED_AT)} of its capacity${busyNote}`,
    };
  }
  const busiest = cpuTop ?? { part: 'unknown', utilization: 0, basis: 'no resource samples' };
  if (good && exhausted) {
    return {
      ...base,
      part: MACHINE,
      utilization: machine.utilization,
      saturated: true,
      namedBy: 'machine',
      evidence: `no part reached ${pct(SATURATED_AT)} of its capacity and no stage's p99 grew clearly more than the others (${growth.map((g) => `${g.stage} ${signed(g.toMs - g.fromMs)} ms`).join(', ')}): the parts queued for the machine's cores together; the busiest part of the stack was ${busiest.part} (${busiest.basis})${busyNote}`,
    };
  }
  return {
    ...base,
    part: busiest.part,
    utilization: busiest.utilization,
    saturated: exhausted,
    namedBy: 'busiest',
    evidence: `${good ? 'no stage\'s p99 grew clearly more than the others' : 'no stage latency to compare (no good step before this one)'} and no part reached ${pct(SATURATED_AT)} of its capacity; the busiest part was ${busiest.part} (${busiest.basis})${busyNote}`,
  };
}

/**
 * On shared cores no part saturates alone, yet one of them is the stack's own limit: the part whose
 * CPU per operation is largest against what it can use reaches its capacity first once it has its
 * cores to itself. CPU per operation holds steady below the knee, so the projection is linear.
 */
export function ownLimit(step: StepResult, m: MachineShape): Saturation['ownLimit'] {
  const rate = step.achieved.opsPerSec;
  if (rate <= 0) return null;
  let best: Saturation['ownLimit'] = null;
  for (const r of utilizations(step, m)) {
    if (r.part === MACHINE || HARNESS.test(r.part) || r.utilization <= 0) continue;
    const atRate = rate / r.utilization;
    if (best && best.atRate <= atRate) continue;
    best = { part: r.part, atRate, basis: `${r.basis} at ${rate.toFixed(1)} ops/s` };
  }
  return best;
}

/**
 * The stage whose p99 grew most, when it stands out: by at least 2 ms and twice the runner-up's
 * growth. Growths of a few ms, alike across stages, are the noise of one more step, not a bottleneck.
 */
function standsOut(growth: StageGrowth[]): StageGrowth | null {
  const [first, second] = growth;
  if (!first) return null;
  const d = first.toMs - first.fromMs;
  const runnerUp = second ? Math.max(0, second.toMs - second.fromMs) : 0;
  return d >= MIN_STAGE_GROWTH_MS && d >= 2 * runnerUp ? first : null;
}

const MIN_STAGE_GROWTH_MS = 2;
const signed = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(1)}`;

/** Share of the machine's busy CPU time spent outside the stack's and the harness's processes (other work on the machine), 0..1. */
export function outsideShare(step: StepResult, m: MachineShape): number | null {
  const machine = step.resources.machineCpuAvgPercent;
  if (machine === null || machine <= 0) return null;
  const ours = step.resources.parts.reduce((sum, p) => sum + p.cpuAvgPercent, 0) / m.cores;
  return Math.min(1, Math.max(0, (machine - ours) / machine));
}

/** When the machine's cores were exhausted, says so, and whose work took them. */
function machineNote(step: StepResult, m: MachineShape): string {
  const busy = step.resources.machineCpuAvgPercent;
  if (busy === null || busy / 100 < SATURATED_AT) return '';
  const outside = outsideShare(step, m);
  const others =
    outside !== null && outside >= 0.5
      ? `; ${pct(outside)} of the busy time was processes outside the stack and the harness, so this limit is the machine's other load, not the stack's`
      : ', so the parts queued behind each other for the cores';
  return `; the machine's CPU was exhausted (${busy.toFixed(0)}% of all ${m.cores} cores busy)${others}`;
}

function stagePart(g: StageGrowth, stack: Saturation['ranking']): Saturation['ranking'][number] | null {
  const re = STAGE_PARTS[g.stage];
  return (re && stack.find((r) => re.test(r.part))) ?? null;
}

export function describeGrowth(g: StageGrowth): string {
  return `${STAGE_LABEL[g.stage] ?? g.stage}: p99 ${g.fromMs.toFixed(1)} -> ${g.toMs.toFixed(1)} ms from ${g.fromRate} to ${g.toRate} ops/s`;
}

const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
