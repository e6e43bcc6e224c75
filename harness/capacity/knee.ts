/**
 * Reading a sweep: the step verdicts, the knee (highest offered rate whose step held the SLO with
 * nothing failed, lost or dropped and the generator healthy), and the part that limited it
 * (see attribute.ts).
 */
import { attribute, type MachineShape } from './attribute.ts';
import type { KneeResult, StepResult, StepVerdict } from './types.ts';

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

/** The knee of one users-per-room series (steps in any order; refinement steps included). */
export function findKnee(steps: readonly StepResult[], usersPerRoom: number, machine: MachineShape): KneeResult {
  const series = steps.filter((s) => s.usersPerRoom === usersPerRoom && !s.superseded).sort((a, b) => a.targetRate - b.targetRate);
  const firstFailure = series.find((s) => s.verdict !== 'pass') ?? null;
  // Only rates below the first failure count: a lucky pass above a failure is not capacity.
  const below = series.filter((s) => s.verdict === 'pass' && (!firstFailure || s.targetRate < firstFailure.targetRate));
  const knee = below.at(-1) ?? null;
  const status = !knee ? 'none' : firstFailure ? 'found' : 'lower-bound';
  // Resources are judged where the sweep stopped climbing: the rate steps' failure, the highest load it saw.
  // A bisection failure just above the knee may be a latency tail, with every part further from its limit.
  const at = series.find((s) => !s.refinement && s.verdict !== 'pass') ?? firstFailure ?? series.at(-1);
  // The last good step below it is what its stage latencies are compared with.
  const good = at ? (series.filter((s) => s.verdict === 'pass' && s.targetRate < at.targetRate).at(-1) ?? null) : null;
  return { usersPerRoom, status, knee, firstFailure, saturation: at ? attribute(good, at, machine) : null };
}
