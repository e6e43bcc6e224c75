import type { HistoryEvent } from '../history/types.ts';

/** Events the workload records; the history writer adds run-start and run-end itself. */
export type RecordedEvent = Exclude<HistoryEvent, { type: 'run-start' | 'run-end' }>;

/** What the workload needs from the history: one clock and an append. */
export interface Recorder {
  /** ms since run start on the monotonic clock. */
  now(): number;
  /** Wall-clock epoch ms at t = 0, to convert other processes' timestamps. */
  readonly epochMs: number;
  /**
   * @param line the event's history line (JSON, no newline) when the caller has made it already,
   *   as a light reader does from parts shared by every reader of a change; it must parse to `e`.
   */
  record(e: RecordedEvent, line?: string): void;
}

/** A recorder that keeps events in memory (tests, property runs). */
export class MemoryRecorder implements Recorder {
  readonly events: RecordedEvent[] = [];
  private readonly t0 = performance.now();
  readonly epochMs = performance.timeOrigin + this.t0;

  now(): number {
    return performance.now() - this.t0;
  }

  record(e: RecordedEvent, _line?: string): void {
    this.events.push(e);
  }
}
