/**
 * The generator watches itself: when a thread's event loop lags or is busy all the time, the
 * latencies it measures include its own queueing, and the report must say so. Each generator
 * thread (main and every worker) runs one of these on its own loop.
 *
 * Busy share comes from the thread's event-loop utilisation, not process CPU: with worker
 * threads the process can use more than one core, and what saturates is one thread's loop.
 */
import { monitorEventLoopDelay, performance, type EventLoopUtilization } from 'node:perf_hooks';
import type { Recorder } from './recorder.ts';

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
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  sample(): HealthSample {
    const elu = performance.eventLoopUtilization();
    const delta = performance.eventLoopUtilization(elu, this.lastElu);
    this.lastElu = elu;
    const s: HealthSample = {
      eventLoopDelayP99Ms: this.h.percentile(99) / 1e6,
      cpuPercent: delta.utilization * 100,
    };
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
    this.h.disable();
  }

  /** Time this thread's event loop was busy between start() and stop() (or now), µs. */
  busyUs(): number {
    if (!this.startElu) return 0;
    const end = this.stopElu ?? performance.eventLoopUtilization();
    return performance.eventLoopUtilization(end, this.startElu).active * 1000;
  }
}
