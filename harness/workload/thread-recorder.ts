/**
 * The recorder of a worker thread: events get `t` from the main thread's run clock and travel
 * to the main thread in batches, already serialised as history lines, with only the few
 * figures the progress line needs beside them. One message per event would cost the main
 * thread as much as the deliveries themselves.
 */
import type { RecordedEvent, Recorder } from './recorder.ts';

/** What the main thread's live figures need of a batch (see LiveStats.ingest). */
export interface StatDelta {
  /** Run time and `messageId|text` of each post, edit and delete invoked. */
  invokeT: number[];
  invokeKey: string[];
  acked: number;
  failed: number;
  dropped: number;
  /** Run time and `messageId|text` of each receipt ('' for a soft delete: not an edit's delivery). */
  receiveT: number[];
  receiveKey: string[];
  /** Health samples of this thread (about one a second). */
  health: Array<{ thread: string; cpuPercent: number; eventLoopDelayP99Ms: number }>;
}

export interface EventBatch {
  kind: 'events';
  /** NDJSON history lines in UTF-8, each ending in a newline: bytes, so the batch moves to the main thread without a copy. */
  lines: Uint8Array;
  count: number;
  stats: StatDelta;
}

const emptyDelta = (): StatDelta => ({ invokeT: [], invokeKey: [], acked: 0, failed: 0, dropped: 0, receiveT: [], receiveKey: [], health: [] });

export function monotonicNs(): bigint {
  return process.hrtime.bigint();
}

/** Bytes a batch starts with at least; each next one starts at twice what the last one used. */
const MIN_CHUNK_BYTES = 64 * 1024;

export class ThreadRecorder implements Recorder {
  // Lines are written into bytes as they come: joining them into one string and cloning it to
  // the main thread cost twice as much, and the main thread then encoded it again for the file.
  private chunk = Buffer.allocUnsafeSlow(MIN_CHUNK_BYTES);
  private used = 0;
  private count = 0;
  private delta = emptyDelta();
  private timer: NodeJS.Timeout | undefined;

  /**
   * @param startNs the main thread's run start on `process.hrtime` (CLOCK_MONOTONIC, shared by
   *   every thread of the process), so `t` here and in the main thread is one clock.
   */
  constructor(
    private readonly startNs: bigint,
    readonly epochMs: number,
    private readonly post: (b: EventBatch, transfer: ArrayBuffer[]) => void,
    private readonly opts: { flushMs: number; maxEvents: number } = { flushMs: 15, maxEvents: 2000 },
  ) {}

  now(): number {
    return Number(process.hrtime.bigint() - this.startNs) / 1e6;
  }

  record(e: RecordedEvent, line?: string): void {
    this.append(line ?? JSON.stringify(e));
    const d = this.delta;
    switch (e.type) {
      case 'invoke':
        if ((e.op === 'post' || e.op === 'edit' || e.op === 'delete') && e.text !== undefined && e.messageId) {
          d.invokeT.push(e.t);
          d.invokeKey.push(`${e.messageId}|${e.text}`);
        } else if (e.op === 'post' || e.op === 'edit' || e.op === 'delete') {
          d.invokeT.push(e.t);
          d.invokeKey.push('');
        }
        break;
      case 'ack':
        d.acked++;
        break;
      case 'fail':
        d.failed++;
        break;
      case 'dropped':
        d.dropped++;
        break;
      case 'receive':
        d.receiveT.push(e.t);
        d.receiveKey.push(e.deleted ? '' : `${e.messageId}|${e.text}`);
        break;
      case 'health':
        d.health.push({ thread: e.thread ?? 'worker', cpuPercent: e.cpuPercent, eventLoopDelayP99Ms: e.eventLoopDelayP99Ms });
        break;
    }
    if (this.count >= this.opts.maxEvents) this.flush();
    else if (!this.timer) this.timer = setTimeout(() => this.flush(), this.opts.flushMs);
  }

  /** Sends what is buffered now; the main thread receives it before any later message of this thread. */
  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.count === 0) return;
    const lines = new Uint8Array(this.chunk.buffer, 0, this.used);
    const batch: EventBatch = { kind: 'events', lines, count: this.count, stats: this.delta };
    // The whole buffer moves with the batch and lives until the file has it: sized to the load.
    this.chunk = Buffer.allocUnsafeSlow(Math.max(MIN_CHUNK_BYTES, 2 * this.used));
    this.used = 0;
    this.count = 0;
    this.delta = emptyDelta();
    this.post(batch, [lines.buffer as ArrayBuffer]);
  }

  private append(line: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 unit, so a line that fits this bound fits.
    const most = line.length * 3 + 1;
    if (this.chunk.length - this.used < most) {
      if (this.count > 0) this.flush();
      if (this.chunk.length < most) this.chunk = Buffer.allocUnsafeSlow(Math.max(most, 2 * this.chunk.length));
    }
    this.used += this.chunk.write(line, this.used);
    this.chunk[this.used++] = 0x0a;
    this.count++;
  }
}
