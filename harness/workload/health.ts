/**
 * The generator watches itself: when its event loop lags or its CPU is pegged, the latencies it
 * measures include its own queueing, and the report must say so.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Recorder } from './recorder.ts';

export interface HealthSample {
  eventLoopDelayP99Ms: number;
  cpuPercent: number;
}

export class GeneratorHealth {
  private readonly h = monitorEventLoopDelay({ resolution: 10 });
  private timer?: NodeJS.Timeout;
  private lastCpu = process.cpuUsage();
  private lastAt = performance.now();
  latest: HealthSample = { eventLoopDelayP99Ms: 0, cpuPercent: 0 };
  worst: HealthSample = { eventLoopDelayP99Ms: 0, cpuPercent: 0 };

  constructor(private readonly recorder: Recorder, private readonly intervalMs = 1000) {}

  start(): void {
    this.h.enable();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  sample(): HealthSample {
    const now = performance.now();
    const cpu = process.cpuUsage(this.lastCpu);
    const wallUs = (now - this.lastAt) * 1000;
    this.lastCpu = process.cpuUsage();
    this.lastAt = now;
    const s: HealthSample = {
      eventLoopDelayP99Ms: this.h.percentile(99) / 1e6,
      // One Node process runs JavaScript on one core: 100% means that core is saturated.
      cpuPercent: wallUs > 0 ? ((cpu.user + cpu.system) / wallUs) * 100 : 0,
    };
    this.h.reset();
    this.latest = s;
    this.worst = {
      eventLoopDelayP99Ms: Math.max(this.worst.eventLoopDelayP99Ms, s.eventLoopDelayP99Ms),
      cpuPercent: Math.max(this.worst.cpuPercent, s.cpuPercent),
    };
    this.recorder.record({ t: this.recorder.now(), type: 'health', ...s });
    return s;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.h.disable();
  }
}
