/** What the connector benchmarks read from /proc (Linux), on top of the capacity sampler's parser. */
import { readFileSync } from 'node:fs';
import { parseStat, procConstants, processCpuMs, readAllStats, treeUsage } from '../../harness/lib/proc.ts';

export const cpuMs = processCpuMs;

/** The parent process id; NaN if the process is gone. */
export function parentPid(pid: number): number {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.ppid ?? NaN;
  } catch {
    return NaN;
  }
}

/** This run's server only (its postmaster, its backends, and those already reaped): other Postgres servers on the machine are not ours. */
export function postgresCpuMs(postmaster: number): number {
  const usage = treeUsage(readAllStats(), postmaster, new Set());
  return usage ? (usage.ticks * 1000) / procConstants().ticksPerSecond : NaN;
}
