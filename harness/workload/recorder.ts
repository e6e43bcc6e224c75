import type { HistoryEvent } from '../history/types.ts';

/** What the workload needs from the history: one clock and an append. */
export interface Recorder {
  /** ms since run start on the monotonic clock. */
  now(): number;
  /** Wall-clock epoch ms at t = 0, to convert other processes' timestamps. */
  readonly epochMs: number;
  record(e: HistoryEvent): void;
}

/** A recorder that keeps events in memory (tests, property runs). */
export class MemoryRecorder implements Recorder {
  readonly events: HistoryEvent[] = [];
  private readonly t0 = performance.now();
  readonly epochMs = performance.timeOrigin + this.t0;

  now(): number {
    return performance.now() - this.t0;
  }

  record(e: HistoryEvent): void {
    this.events.push(e);
  }
}
