/** Short words and one-line summaries shared by report.md, report.html and the terminal summary. */
import type { Validity } from '../history/types.ts';
import type { Report } from './types.ts';

export function validityWord(v: Validity): string {
  return v === true ? 'valid' : v === false ? 'INVALID' : 'unknown';
}

export function verdictLine(r: Report): string {
  if (r.exitCode === 0) return `PASSED: all ${r.checks.length} checks valid, all ${r.thresholds.length} thresholds held`;
  const badChecks = r.checks.filter((c) => c.valid !== true).map((c) => `${c.name} ${validityWord(c.valid)}`);
  const badThresholds = r.thresholds.filter((t) => !t.passed).map((t) => `${t.metric} ${t.expr}`);
  return `FAILED: ${[...badChecks, ...badThresholds.map((t) => `threshold ${t}`)].join(', ')}`;
}

/** A failing check's own one-line diagnosis (its `cause` detail), e.g. why acknowledged writes are missing. */
export function causeLines(r: Report): string[] {
  return r.checks.flatMap((c) => (c.valid !== true && typeof c.details.cause === 'string' ? [`Cause (${c.name}): ${c.details.cause}`] : []));
}

/** The scalar details of a check as `key=value` pairs, bounded in length. */
export function detailsLine(details: Record<string, unknown>, max = 140): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(details)) {
    if (typeof v === 'number') parts.push(`${k}=${Number.isInteger(v) ? v : v.toFixed(3)}`);
    else if (typeof v === 'boolean') parts.push(`${k}=${v}`);
    else if (typeof v === 'string' && v.length <= 40) parts.push(`${k}=${v}`);
  }
  const line = parts.join(' ');
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

export const STAGE_LABELS: Record<string, string> = {
  e2e: 'end to end (publish -> receipt)',
  invokeToAck: 'publish -> ack',
  ackToCommit: 'ack -> commit',
  commitToPublish: 'commit -> connector publish',
  publishToReceive: 'connector publish -> receipt',
  editPropagation: 'edit -> every subscriber has it',
};

export function healthLine(r: Report): string {
  const g = r.generator;
  if (g.samples === 0) return 'generator health: not sampled';
  const state = g.saturated ? 'SATURATED (latencies not trustworthy)' : 'ok';
  const hot = g.threads.filter((t) => t.saturated).map((t) => t.thread);
  const which = hot.length ? ` in ${hot.join(', ')}` : '';
  return `generator health: ${state}${which}; max event-loop delay p99 ${g.maxEventLoopDelayP99Ms.toFixed(1)} ms, max CPU ${g.maxCpuPercent.toFixed(0)}% of a core (${g.samples} samples over ${Math.max(1, g.threads.length)} thread${g.threads.length > 1 ? 's' : ''})`;
}

/** The generator's own cost: where its users ran, which reader client, CPU per delivery and per operation. */
export function generatorCostLine(r: Report): string | undefined {
  const g = r.generator;
  if (g.workers === undefined) return undefined;
  const us = (x: number | null | undefined) => (x === null || x === undefined ? '-' : `${x.toFixed(1)} µs`);
  const where = g.workers > 0 ? `${g.workers} worker thread${g.workers > 1 ? 's' : ''}` : 'main thread';
  const threads = (g.perWorker ?? []).map((t) => `${t.thread} ${t.users} users ${t.busyPercent.toFixed(0)}% of a core`).join(', ');
  return (
    `generator: users in ${where}, ${g.readerClient ?? 'sdk'} readers; ${us(g.cpuUsPerDelivery)} CPU per delivery, ${us(g.cpuUsPerOp)} per operation ` +
    `(generator threads: ${threads}); harness process ${us(g.processCpuUsPerDelivery)} per delivery, including any stack part it hosts`
  );
}

/** The run's floor and e2e as a multiple of it; undefined when the run did not measure a floor. */
export function floorLine(r: Report): string | undefined {
  const f = r.floor;
  if (!f) return undefined;
  const x = (v: number | null) => (v === null ? 'n/a' : `${v}×`);
  return (
    `floor (INSERT -> pg_notify -> LISTEN -> one WebSocket hop, ${f.samples} round trips in this run): p50 ${f.p50Ms} ms, p99 ${f.p99Ms} ms; ` +
    `e2e p50 ${x(f.e2eP50Ratio)} the floor's p50, e2e p99 ${x(f.e2eP99Ratio)} its p99`
  );
}

/** What a comparison compared, in words for headings. */
export const COMPARISON_AXIS_WORDS: Record<NonNullable<Report['comparison']>['axis'], string> = {
  rules: 'integration rules',
  'connector-mode': 'connector capture modes',
  attackers: 'runs with and without attackers',
  runs: 'saved runs',
};
