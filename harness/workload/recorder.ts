import type { HistoryEvent } from '../history/types.ts';

/** Events the workload records; the history writer adds run-start and run-end itself. */
export type RecordedEvent = Exclude<HistoryEvent, { type: 'run-start' | 'run-end' }>;

/** What the workload needs from the history: one clock and an append. */
export interface Recorder {
  /** ms since run start on the monotonic clock. */
  now(): number;
  /** Wall-clock epoch ms at t = 0, to convert other processes' timestamps. */
  readonly epochMs: number;
  record(e: RecordedEvent): void;
}

/** A recorder that keeps events in memory (tests, property runs). */
export class MemoryRecorder implements Recorder {
  readonly events: RecordedEvent[] = [];
  private readonly t0 = performance.now();
  readonly epochMs = performance.timeOrigin + this.t0;

  now(): number {
    return performance.now() - this.t0;
  }

  record(e: RecordedEvent): void {
    this.events.push(e);
  }
}
