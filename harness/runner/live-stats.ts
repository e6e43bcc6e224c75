/**
 * Forwards history events and keeps running figures for the progress line: operations and
 * deliveries per second, errors, dropped operations, and end-to-end p99 so far.
 */
import * as hdr from 'hdr-histogram-js';
import type { RecordedEvent, Recorder } from '../workload/recorder.ts';
import type { EventBatch } from '../workload/thread-recorder.ts';

/** Where batches of history lines serialised in worker threads go. */
export interface LineSink {
  appendLines(lines: string | Uint8Array, count: number): void;
}

export class LiveStats implements Recorder {
  readonly epochMs: number;
  invoked = 0;
  acked = 0;
  failed = 0;
  delivered = 0;
  dropped = 0;
  private readonly e2e = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });
  /** invoke time by (messageId|text) so a receipt can be matched to its operation. */
  private readonly invokedAt = new Map<string, number>();
  private lastSample = { t: 0, invoked: 0, delivered: 0 };
  /** The latest health sample of each generator thread. */
  readonly threadHealth = new Map<string, { cpuPercent: number; eventLoopDelayP99Ms: number }>();

  constructor(private readonly inner: Recorder & Partial<LineSink>) {
    this.epochMs = inner.epochMs;
  }

  now(): number {
    return this.inner.now();
  }

  record(e: RecordedEvent): void {
    this.inner.record(e);
    switch (e.type) {
      case 'invoke':
        if (e.op === 'post' || e.op === 'edit' || e.op === 'delete') {
          this.invoked++;
          if (e.text !== undefined && e.messageId) this.invokedAt.set(`${e.messageId}|${e.text}`, e.t);
        }
        break;
      case 'ack':
        this.acked++;
        break;
      case 'fail':
        this.failed++;
        break;
      case 'dropped':
        this.dropped++;
        break;
      case 'health':
        this.threadHealth.set(e.thread ?? 'main', { cpuPercent: e.cpuPercent, eventLoopDelayP99Ms: e.eventLoopDelayP99Ms });
        break;
      case 'receive': {
        this.delivered++;
        // A soft delete carries the last text again; it is not that edit's delivery.
        const t0 = e.deleted ? undefined : this.invokedAt.get(`${e.messageId}|${e.text}`);
        if (t0 !== undefined) this.e2e.recordValue(Math.max(1, Math.round((e.t - t0) * 1000)));
        break;
      }
    }
  }

  /** A worker thread's batch: its lines go to the history as they are; only the figures are read. */
  ingest(b: EventBatch): void {
    if (!this.inner.appendLines) throw new Error('this recorder cannot take history lines from worker threads');
    this.inner.appendLines(b.lines, b.count);
    const s = b.stats;
    this.invoked += s.invokeT.length;
    for (let i = 0; i < s.invokeT.length; i++) if (s.invokeKey[i]) this.invokedAt.set(s.invokeKey[i]!, s.invokeT[i]!);
    this.acked += s.acked;
    this.failed += s.failed;
    this.dropped += s.dropped;
    this.delivered += s.receiveT.length;
    for (const h of s.health) this.threadHealth.set(h.thread, { cpuPercent: h.cpuPercent, eventLoopDelayP99Ms: h.eventLoopDelayP99Ms });
    for (let i = 0; i < s.receiveT.length; i++) {
      const t0 = s.receiveKey[i] ? this.invokedAt.get(s.receiveKey[i]!) : undefined;
      if (t0 !== undefined) this.e2e.recordValue(Math.max(1, Math.round((s.receiveT[i]! - t0) * 1000)));
    }
  }

  /** The busiest generator thread by its latest sample: the one that would saturate first. */
  busiestThread(): { thread: string; cpuPercent: number; eventLoopDelayP99Ms: number } | undefined {
    let top: { thread: string; cpuPercent: number; eventLoopDelayP99Ms: number } | undefined;
    for (const [thread, h] of this.threadHealth) if (!top || h.cpuPercent > top.cpuPercent) top = { thread, ...h };
    return top;
  }

  /** Rates since the previous call. */
  sample(): { opsPerSec: number; deliveriesPerSec: number; p99Ms: number } {
    const t = this.now();
    const dt = (t - this.lastSample.t) / 1000 || 1;
    const r = {
      opsPerSec: (this.invoked - this.lastSample.invoked) / dt,
      deliveriesPerSec: (this.delivered - this.lastSample.delivered) / dt,
      p99Ms: this.e2e.totalCount ? this.e2e.getValueAtPercentile(99) / 1000 : 0,
    };
    this.lastSample = { t, invoked: this.invoked, delivered: this.delivered };
    return r;
  }
}
