/** Words and table rows shared by capacity.md, capacity.html and the terminal summary. */
import { humanCount } from './projection.ts';
import type { CapacityResult } from './run.ts';
import { shortPart } from './sweep.ts';
import { STAGE_LABEL } from './attribute.ts';
import type { KneeResult, ProjectionRow, Saturation, StepResult } from './types.ts';

const f1 = (x: number) => x.toFixed(1);

export function kneeLine(k: KneeResult): string {
  const users = `users/room ${k.usersPerRoom}`;
  if (k.status === 'none') {
    return `${users}: no knee: the first rate already failed (${k.firstFailure?.targetRate ?? '?'} ops/s: ${k.firstFailure?.reasons.join('; ') ?? 'no step ran'})`;
  }
  const knee = k.knee!;
  const head = `${users}: knee at ${knee.targetRate} ops/s (achieved ${f1(knee.achieved.opsPerSec)} ops/s, ${f1(knee.achieved.deliveriesPerSec)} deliveries/s), e2e p99 ${f1(knee.e2e.p99)} ms`;
  if (k.status === 'lower-bound') return `${head}; nothing failed up to --max: the knee is at least this`;
  return `${head}; first failure at ${k.firstFailure!.targetRate} ops/s: ${k.firstFailure!.reasons.join('; ')}`;
}

const NAMED_BY: Record<Saturation['namedBy'], string> = {
  generator: "named by the generator's own health",
  cpu: 'named by its CPU share',
  'stage-latency': 'named by the stage whose latency grew most',
  machine: 'no part or stage stood out: the shared cores',
  busiest: 'named only as the busiest part',
};

export function saturationLine(k: KneeResult): string {
  const s = k.saturation;
  if (!s) return 'no resource samples';
  if (s.namedBy === 'generator') return `limited by the load generator at ${s.atRate} ops/s (${NAMED_BY.generator}): ${s.evidence}`;
  const line = `${s.saturated ? 'saturated first' : 'limited first'} at ${s.atRate} ops/s: ${shortPart(s.part)} (${NAMED_BY[s.namedBy]}): ${s.evidence}`;
  return s.namedBy === 'cpu' || !s.ownLimit ? line : `${line}. ${ownLimitLine(s.ownLimit)}`;
}

/** The stack's own first limit, said as the projection it is. */
export function ownLimitLine(o: NonNullable<Saturation['ownLimit']>): string {
  return `Of the stack, ${shortPart(o.part)} would saturate first with its cores to itself, near ${Math.round(o.atRate)} ops/s (${o.basis}, CPU per operation projected linearly)`;
}

export const GROWTH_HEADER = ['stage', 'parts it is spent in', 'p99 at the last good step ms', 'p99 at the first bad step ms', 'growth ms'];

export function growthRows(s: Saturation): string[][] {
  return s.stageGrowth.map((g) => [g.stage, STAGE_LABEL[g.stage] ?? '', f1(g.fromMs), f1(g.toMs), f1(g.toMs - g.fromMs)]);
}

export function headline(r: CapacityResult): string[] {
  return r.knees.flatMap((k) => [kneeLine(k), `  ${saturationLine(k)}`]);
}

export function partColumns(r: CapacityResult): string[] {
  return r.parts;
}

export const STEP_HEADER = (parts: readonly string[]) => [
  'step',
  'users/room',
  'offered ops/s',
  'achieved ops/s',
  'deliveries/s',
  'e2e p50 ms',
  'e2e p99 ms',
  'e2e max ms',
  ...parts.map((p) => `${shortPart(p)} CPU% / RSS MiB`),
  'machine CPU%',
  'harness ELU%',
  'result',
];

export function stepRow(s: StepResult, parts: readonly string[]): string[] {
  return [
    `${s.index}${s.refinement ? ' (bisect)' : ''}`,
    String(s.usersPerRoom),
    String(s.targetRate),
    f1(s.achieved.opsPerSec),
    f1(s.achieved.deliveriesPerSec),
    f1(s.e2e.p50),
    f1(s.e2e.p99),
    f1(s.e2e.max),
    ...parts.map((p) => {
      const x = s.resources.parts.find((q) => q.part === p);
      return x ? `${x.cpuAvgPercent.toFixed(0)} / ${x.rssMaxMiB.toFixed(0)}` : '-';
    }),
    s.resources.machineCpuAvgPercent === null ? '-' : s.resources.machineCpuAvgPercent.toFixed(0),
    (s.resources.harnessEluAvg * 100).toFixed(0),
    (s.verdict === 'pass' ? 'pass' : s.reasons.join('; ')) + (s.superseded ? ' (repeated)' : ''),
  ];
}

export const PROJECTION_HEADER = [
  'for',
  'ops/s per room',
  'rooms',
  'writers + readers per room',
  'realtime msgs/s (in + out)',
  'realtime msgs / month',
  'Lambda invocations / month',
  'DB writes / month',
  'NOTIFY/s',
];

export function projectionRow(p: ProjectionRow): string[] {
  const s = p.perSecond;
  return [
    p.label,
    humanCount(p.ratePerRoom),
    String(p.rooms),
    `${p.writersPerRoom} + ${p.readersPerRoom}`,
    `${humanCount(s.realtimeMessages)} (${humanCount(s.publishes)} + ${humanCount(s.deliveries)})`,
    humanCount(p.perMonth.realtimeMessages),
    humanCount(p.perMonth.lambdaInvocations),
    humanCount(p.perMonth.dbWrites),
    humanCount(s.notifies),
  ];
}

export function settingsLine(r: CapacityResult): string {
  const s = r.settings;
  const slo = sloText(s.slo);
  return `${r.scenario}: rates ${s.startRate}..${s.maxRate} step ${s.stepRate} ops/s, ${(s.stepDurationMs / 1000).toFixed(0)} s per step, ${s.rooms} room(s), ` +
    `users/room ${s.usersPerRoom.join(', ')}, ${s.readers} ${s.readerClient} readers/room, SLO ${slo}, rules ${s.rules}, seed ${s.seed}; ${r.cores} cores; took ${(r.durationMs / 1000).toFixed(0)} s`;
}

export function sloText(slo: CapacityResult['settings']['slo']): string {
  return Object.entries(slo).flatMap(([m, es]) => es.map((e) => `${m} ${typeof e === 'string' ? e : e.threshold}`)).join(', ');
}
