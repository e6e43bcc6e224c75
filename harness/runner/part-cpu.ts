/**
 * CPU of each stack part over the load window, from /proc: what capturing and publishing a change
 * costs Postgres and the connector is the figure that tells the connector's modes apart.
 */
import { procConstants, readAllStats, treeUsage } from '../lib/proc.ts';

export interface PartProcess {
  part: string;
  pid: number;
}

/** The generator's own CPU is measured per thread elsewhere; here only the stack's parts count. */
const HARNESS = process.pid;

function snapshot(procs: readonly PartProcess[]): Map<string, number> {
  const stats = readAllStats();
  const { ticksPerSecond } = procConstants();
  const roots = new Set(procs.map((p) => p.pid));
  const out = new Map<string, number>();
  for (const p of procs) {
    if (p.pid === HARNESS) continue;
    // With its reaped children: Postgres's backends come and go within the window.
    const u = treeUsage(stats, p.pid, roots, true);
    if (u) out.set(`${p.part}\u0000${p.pid}`, (u.ticks * 1000) / ticksPerSecond);
  }
  return out;
}

/**
 * Starts measuring; the function it returns gives each part's CPU since, in ms. A process that
 * started meanwhile (a restarted connector) counts from zero; one that died meanwhile is missing
 * its last moments, which /proc no longer shows.
 */
export function measurePartCpu(processes: () => readonly PartProcess[]): () => Array<{ part: string; cpuMs: number }> {
  const before = snapshot(processes());
  return () => {
    const after = snapshot(processes());
    const byPart = new Map<string, number>();
    for (const [key, ms] of after) {
      const part = key.split('\u0000')[0]!;
      byPart.set(part, (byPart.get(part) ?? 0) + Math.max(0, ms - (before.get(key) ?? 0)));
    }
    return [...byPart].map(([part, cpuMs]) => ({ part, cpuMs: Math.round(cpuMs) }));
  };
}
