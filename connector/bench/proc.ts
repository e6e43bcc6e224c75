/** CPU accounting from /proc (Linux), shared by the connector benchmarks. */
import { readFileSync, readdirSync } from 'node:fs';

/** CPU time (user + system, ms) a process has used so far, from /proc (Linux). */
export function cpuMs(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // clock ticks of 10 ms
  } catch {
    return NaN;
  }
}

/** The parent process id, from /proc (Linux). */
export function parentPid(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
  } catch {
    return NaN;
  }
}

/** This run's server only (its postmaster and the postmaster's children): other Postgres servers on the machine are not ours. */
export function postgresCpuMs(postmaster: number): number {
  let total = cpuMs(postmaster);
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    if (parentPid(Number(d)) === postmaster) total += cpuMs(Number(d)) || 0;
  }
  return total;
}
