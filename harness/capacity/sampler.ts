/**
 * Samples CPU and memory of each part of the stack once a second while a sweep runs, plus the
 * whole machine's CPU and the harness's event-loop utilisation (the harness process hosts the
 * realtime service, the Lambda endpoint, the functions and the load generator, so its CPU alone
 * cannot tell them apart; a busy event loop is the sign it is the bottleneck).
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { machineTicks, procConstants, readAllStats, treeUsage } from '../lib/proc.ts';

export interface StackProcess {
  part: string;
  pid: number;
}

export interface PartSample {
  part: string;
  pid: number;
  /** Percent of one core over the interval (200 = two cores busy). */
  cpuPercent: number;
  rssMiB: number;
  processes: number;
}

export interface ResourceSample {
  epochMs: number;
  parts: PartSample[];
  /** Busy share of all cores of the machine, percent. */
  machineCpuPercent: number | null;
  /** The harness process's event-loop utilisation over the interval, 0..1. */
  harnessElu: number;
}

export interface PartSummary {
  part: string;
  cpuAvgPercent: number;
  cpuMaxPercent: number;
  rssMaxMiB: number;
}

export interface ResourceSummary {
  samples: number;
  parts: PartSummary[];
  machineCpuAvgPercent: number | null;
  harnessEluAvg: number;
  harnessEluMax: number;
}

export class ResourceSampler {
  private timer?: NodeJS.Timeout;
  private last = new Map<string, { ticks: number; at: number }>();
  private lastMachine = machineTicks();
  private lastElu: EventLoopUtilization = performance.eventLoopUtilization();
  readonly samples: ResourceSample[] = [];

  constructor(private readonly processes: () => StackProcess[], private readonly intervalMs = 1000) {}

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  sample(): ResourceSample | undefined {
    const { ticksPerSecond, pageBytes } = procConstants();
    const procs = this.processes();
    const stats = readAllStats();
    const now = performance.now();
    const roots = new Set(procs.map((p) => p.pid));
    const parts: PartSample[] = [];
    for (const p of procs) {
      // The harness reaps whatever it started (Postgres, connectors): their ticks are not its own.
      const u = treeUsage(stats, p.pid, roots, p.pid !== process.pid);
      if (!u) continue;
      const key = `${p.part}\u0000${p.pid}`;
      const prev = this.last.get(key);
      this.last.set(key, { ticks: u.ticks, at: now });
      if (!prev) continue;
      const seconds = (now - prev.at) / 1000;
      if (seconds <= 0) continue;
      parts.push({
        part: p.part,
        pid: p.pid,
        cpuPercent: Math.max(0, ((u.ticks - prev.ticks) / ticksPerSecond / seconds) * 100),
        rssMiB: (u.rssPages * pageBytes) / 2 ** 20,
        processes: u.processes,
      });
    }
    const m = machineTicks();
    const prevM = this.lastMachine;
    this.lastMachine = m;
    const machineCpuPercent = m && prevM && m.total > prevM.total ? ((m.busy - prevM.busy) / (m.total - prevM.total)) * 100 : null;
    const elu = performance.eventLoopUtilization(this.lastElu);
    this.lastElu = performance.eventLoopUtilization();
    if (parts.length === 0) return undefined;
    const s: ResourceSample = { epochMs: Date.now(), parts, machineCpuPercent, harnessElu: elu.utilization };
    this.samples.push(s);
    return s;
  }

  /** Averages and peaks over the samples taken in [fromEpochMs, toEpochMs]. */
  summarize(fromEpochMs: number, toEpochMs: number): ResourceSummary {
    return summarizeSamples(this.samples.filter((s) => s.epochMs >= fromEpochMs && s.epochMs <= toEpochMs));
  }
}

export function summarizeSamples(samples: readonly ResourceSample[]): ResourceSummary {
  const byPart = new Map<string, PartSample[]>();
  for (const s of samples) for (const p of s.parts) {
    const list = byPart.get(p.part);
    if (list) list.push(p);
    else byPart.set(p.part, [p]);
  }
  const avg = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
  const machine = samples.flatMap((s) => (s.machineCpuPercent === null ? [] : [s.machineCpuPercent]));
  const elu = samples.map((s) => s.harnessElu);
  return {
    samples: samples.length,
    parts: [...byPart].map(([part, ps]) => ({
      part,
      cpuAvgPercent: avg(ps.map((p) => p.cpuPercent)),
      cpuMaxPercent: Math.max(...ps.map((p) => p.cpuPercent)),
      rssMaxMiB: Math.max(...ps.map((p) => p.rssMiB)),
    })),
    machineCpuAvgPercent: machine.length ? avg(machine) : null,
    harnessEluAvg: avg(elu),
    harnessEluMax: elu.length ? Math.max(...elu) : 0,
  };
}
