/**
 * Reading a sweep: the step verdicts, the knee (highest offered rate whose step held the SLO with
 * nothing failed, lost or dropped and the generator healthy), and the part that saturated first.
 */
import type { KneeResult, Saturation, StepResult, StepVerdict } from './types.ts';

/** Share of a part's capacity at which it counts as saturated. */
export const SATURATED_AT = 0.85;

export function stepVerdict(s: Pick<StepResult, 'checksFailed' | 'counts' | 'generator' | 'slo' | 'e2e'>): { verdict: StepVerdict; reasons: string[] } {
  const reasons: { v: StepVerdict; text: string }[] = [];
  if (s.checksFailed.length) reasons.push({ v: 'check-failed', text: `checks failed: ${s.checksFailed.join(', ')}` });
  const errs = [s.counts.failed && `${s.counts.failed} failed`, s.counts.dropped && `${s.counts.dropped} dropped`, s.counts.lost && `${s.counts.lost} lost`].filter(Boolean);
  if (errs.length) reasons.push({ v: 'errors', text: `operations ${errs.join(', ')}` });
  if (s.generator.saturated) {
    reasons.push({
      v: 'generator-saturated',
      text: `load generator saturated (event-loop delay p99 ${s.generator.maxEventLoopDelayP99Ms.toFixed(0)} ms, CPU ${s.generator.maxCpuPercent.toFixed(0)}%)`,
    });
  }
  for (const t of s.slo) if (!t.passed) reasons.push({ v: 'slo-broken', text: `SLO ${t.metric} ${t.expr} broken (${t.value === null ? 'no data' : t.value.toFixed(1)})` });
  if (s.e2e.count === 0) reasons.push({ v: 'slo-broken', text: 'no end-to-end latency sample' });
  return reasons.length ? { verdict: reasons[0]!.v, reasons: reasons.map((r) => r.text) } : { verdict: 'pass', reasons: [] };
}

/** Utilisation of each part in a step: Node parts against one core (and, for the harness, its event loop), Postgres against all cores. */
export function utilizations(step: StepResult, cores: number): Saturation['ranking'] {
  const out: Saturation['ranking'] = [];
  for (const p of step.resources.parts) {
    if (/^harness/.test(p.part)) {
      const cpu = p.cpuAvgPercent / 100;
      const elu = step.resources.harnessEluAvg;
      out.push(elu >= cpu
        ? { part: p.part, utilization: elu, basis: `event loop ${(elu * 100).toFixed(0)}% busy (CPU ${p.cpuAvgPercent.toFixed(0)}% of a core)` }
        : { part: p.part, utilization: cpu, basis: `CPU ${p.cpuAvgPercent.toFixed(0)}% of a core` });
    } else if (/^postgres/.test(p.part)) {
      out.push({ part: p.part, utilization: p.cpuAvgPercent / (100 * cores), basis: `CPU ${p.cpuAvgPercent.toFixed(0)}% over its processes, of ${cores * 100}%` });
    } else {
      out.push({ part: p.part, utilization: p.cpuAvgPercent / 100, basis: `CPU ${p.cpuAvgPercent.toFixed(0)}% of a core` });
    }
  }
  if (step.resources.machineCpuAvgPercent !== null) {
    out.push({ part: 'machine (all cores)', utilization: step.resources.machineCpuAvgPercent / 100, basis: `${step.resources.machineCpuAvgPercent.toFixed(0)}% of all ${cores} cores busy` });
  }
  return out.sort((a, b) => b.utilization - a.utilization);
}

export function saturationAt(steps: readonly StepResult[], at: StepResult, cores: number): Saturation {
  const ranking = utilizations(at, cores);
  const parts = ranking.filter((r) => r.part !== 'machine (all cores)');
  const machine = ranking.find((r) => r.part === 'machine (all cores)');
  const top = parts[0] ?? { part: 'unknown', utilization: 0, basis: 'no resource samples' };
  let evidence: string;
  let saturated = top.utilization >= SATURATED_AT;
  const harness = parts.find((r) => /^harness/.test(r.part));
  if (at.verdict === 'generator-saturated' && harness) {
    // A saturated generator cannot offer the rate: the step says nothing about the stack.
    saturated = true;
    evidence =
      `${harness.part}: its peak CPU reached ${at.generator.maxCpuPercent.toFixed(0)}% of a core and its event-loop delay p99 ${at.generator.maxEventLoopDelayP99Ms.toFixed(0)} ms ` +
      `(average ${harness.basis})`;
    return finish(harness.part, harness.utilization);
  }
  if (saturated) evidence = `${top.part} at ${top.basis}`;
  else if (machine && machine.utilization >= SATURATED_AT) {
    saturated = true;
    const outside = outsideShare(at, cores);
    evidence =
      `the machine's CPU is exhausted (${machine.basis}); ${top.part} uses the largest share (${top.basis})` +
      (outside !== null && outside >= 0.5 ? `; ${(outside * 100).toFixed(0)}% of the busy time was processes outside the stack, so this limit is the machine's load, not the stack's` : '');
  } else evidence = `no part reached ${(SATURATED_AT * 100).toFixed(0)}% of its capacity; the busiest was ${top.part} (${top.basis}): the limit is latency (queueing), not CPU`;
  return finish(top.part, top.utilization);

  function finish(part: string, utilization: number): Saturation {
    return { part, utilization, saturated, atRate: at.targetRate, evidence, ranking, slowestGrowingStage: stageGrowth(steps, at) };
  }
}

/** Share of the machine's busy CPU time spent outside the stack's processes (another workload on the machine), 0..1. */
export function outsideShare(step: StepResult, cores: number): number | null {
  const machine = step.resources.machineCpuAvgPercent;
  if (machine === null || machine <= 0) return null;
  const stack = step.resources.parts.reduce((sum, p) => sum + p.cpuAvgPercent, 0) / cores;
  return Math.min(1, Math.max(0, (machine - stack) / machine));
}

/** The pipeline stage whose p99 grew most from the series' lowest rate to `at`. */
function stageGrowth(steps: readonly StepResult[], at: StepResult): Saturation['slowestGrowingStage'] {
  const first = [...steps].filter((s) => s.usersPerRoom === at.usersPerRoom).sort((a, b) => a.targetRate - b.targetRate)[0] ?? at;
  // Growth needs two steps: a series that failed at its first rate has nothing to compare with.
  if (first === at) return null;
  let growth: Saturation['slowestGrowingStage'] = null;
  for (const [stage, toMs] of Object.entries(at.stageP99)) {
    if (stage === 'e2e' || stage === 'editPropagation') continue;
    const fromMs = first.stageP99[stage] ?? 0;
    if (!growth || toMs - fromMs > growth.toMs - growth.fromMs) growth = { stage, fromMs, toMs };
  }
  return growth;
}

/** The knee of one users-per-room series (steps in any order; refinement steps included). */
export function findKnee(steps: readonly StepResult[], usersPerRoom: number, cores: number): KneeResult {
  const series = steps.filter((s) => s.usersPerRoom === usersPerRoom && !s.superseded).sort((a, b) => a.targetRate - b.targetRate);
  const firstFailure = series.find((s) => s.verdict !== 'pass') ?? null;
  // Only rates below the first failure count: a lucky pass above a failure is not capacity.
  const below = series.filter((s) => s.verdict === 'pass' && (!firstFailure || s.targetRate < firstFailure.targetRate));
  const knee = below.at(-1) ?? null;
  const status = !knee ? 'none' : firstFailure ? 'found' : 'lower-bound';
  // Resources are judged where the sweep stopped climbing: the rate steps' failure, the highest load it saw.
  // A bisection failure just above the knee may be a latency tail, with every part further from its limit.
  const at = series.find((s) => !s.refinement && s.verdict !== 'pass') ?? firstFailure ?? series.at(-1);
  return { usersPerRoom, status, knee, firstFailure, saturation: at ? saturationAt(series, at, cores) : null };
}
