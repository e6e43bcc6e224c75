/**
 * The generator watches itself: when a thread's event loop lags or is busy all the time, the
 * latencies it measures include its own queueing, and the report must say so. Each generator
 * thread (main and every worker) runs one of these on its own loop.
 *
 * Busy share is the thread's own CPU time (Linux /proc/thread-self/stat), not the process's:
 * with worker threads the process can use more than one core, and what saturates is one
 * thread. Where /proc is missing, the thread's event-loop utilisation stands in (it also counts
 * time the thread waited for a core, so it overstates on a shared machine).
 */
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay, performance, type EventLoopUtilization } from 'node:perf_hooks';
import { parseStat, procConstants } from '../lib/proc.ts';
import type { Recorder } from './recorder.ts';

/** CPU time of the calling thread so far, µs; undefined without /proc. */
export function threadCpuUs(): number | undefined {
  try {
    const st = parseStat(readFileSync('/proc/thread-self/stat', 'utf8'));
    return st ? (st.ticks * 1e6) / procConstants().ticksPerSecond : undefined;
  } catch {
    return undefined;
  }
}

export interface HealthSample {
  eventLoopDelayP99Ms: number;
  cpuPercent: number;
}

export class GeneratorHealth {
  private readonly h = monitorEventLoopDelay({ resolution: 10 });
  private timer?: NodeJS.Timeout;
  private lastElu: EventLoopUtilization = performance.eventLoopUtilization();
  private startElu: EventLoopUtilization | undefined;
  private stopElu: EventLoopUtilization | undefined;
  private lastCpuUs: number | undefined;
  private lastAt = performance.now();
  private startCpuUs: number | undefined;
  private stopCpuUs: number | undefined;
  latest: HealthSample = { eventLoopDelayP99Ms: 0, cpuPercent: 0 };
  worst: HealthSample = { eventLoopDelayP99Ms: 0, cpuPercent: 0 };

  constructor(
    private readonly recorder: Recorder,
    private readonly intervalMs = 1000,
    private readonly thread = 'main',
  ) {}

  start(): void {
    this.h.enable();
    this.lastElu = performance.eventLoopUtilization();
    this.startElu = this.lastElu;
    this.lastCpuUs = this.startCpuUs = threadCpuUs();
    this.lastAt = performance.now();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  sample(): HealthSample {
    const elu = performance.eventLoopUtilization();
    const delta = performance.eventLoopUtilization(elu, this.lastElu);
    this.lastElu = elu;
    const now = performance.now();
    const cpuUs = threadCpuUs();
    const wallUs = (now - this.lastAt) * 1000;
    const cpuPercent = cpuUs !== undefined && this.lastCpuUs !== undefined && wallUs > 0 ? ((cpuUs - this.lastCpuUs) / wallUs) * 100 : delta.utilization * 100;
    this.lastCpuUs = cpuUs;
    this.lastAt = now;
    const s: HealthSample = { eventLoopDelayP99Ms: this.h.percentile(99) / 1e6, cpuPercent };
    this.h.reset();
    this.latest = s;
    this.worst = {
      eventLoopDelayP99Ms: Math.max(this.worst.eventLoopDelayP99Ms, s.eventLoopDelayP99Ms),
      cpuPercent: Math.max(this.worst.cpuPercent, s.cpuPercent),
    };
    this.recorder.record({ t: this.recorder.now(), type: 'health', ...s, thread: this.thread });
    return s;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.stopElu ??= performance.eventLoopUtilization();
    this.stopCpuUs ??= threadCpuUs();
    this.h.disable();
  }

  /** This thread's CPU time between start() and stop() (or now), µs. */
  busyUs(): number {
    if (this.startCpuUs !== undefined) return (this.stopCpuUs ?? threadCpuUs() ?? this.startCpuUs) - this.startCpuUs;
    if (!this.startElu) return 0;
    const end = this.stopElu ?? performance.eventLoopUtilization();
    return performance.eventLoopUtilization(end, this.startElu).active * 1000;
  }
}
