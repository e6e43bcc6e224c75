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
  return `generator health: ${state}; max event-loop delay p99 ${g.maxEventLoopDelayP99Ms.toFixed(1)} ms, max CPU ${g.maxCpuPercent.toFixed(0)}% (${g.samples} samples)`;
}
