/**
 * Appending a run's history to disk while the run is going on.
 *
 * Recording must cost the load generator next to nothing, so `record` only serialises into a
 * buffer; the buffer goes to the file in large writes, one at a time, off the hot path.
 */
import { open, writeFile, type FileHandle } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import type { FinalState, HistoryEvent } from './types.ts';

export { readHistory, readRun, readFinalState, HistoryFormatError, HISTORY_FILE, FINAL_STATE_FILE } from './reader.ts';
export type { RunData } from './reader.ts';

type WithOptionalT<E> = E extends HistoryEvent ? Omit<E, 't'> & { t?: number } : never;
/** An event to record; `t` defaults to the writer's clock at the time of the call. */
export type HistoryInput = WithOptionalT<Exclude<HistoryEvent, { type: 'run-start' | 'run-end' }>>;

export interface HistoryWriterOptions {
  scenario: string;
  seed: number;
  options?: Record<string, unknown>;
  /** Bytes buffered before a write is started without waiting for the timer. */
  flushBytes?: number;
  /** Longest time a recorded line waits in memory. */
  flushIntervalMs?: number;
}

export class HistoryWriter {
  /** Wall-clock epoch ms at t = 0; converts database and realtime timestamps to run time. */
  readonly epochMs: number;
  private readonly t0: number;
  private buffer: Array<string | Uint8Array> = [];
  private bufferedBytes = 0;
  private writing: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private failure: Error | undefined;
  private closed = false;
  private count = 0;

  private constructor(
    private readonly file: FileHandle,
    readonly path: string,
    private readonly flushBytes: number,
    private readonly flushIntervalMs: number,
  ) {
    this.t0 = performance.now();
    // timeOrigin + now() is the same instant as t0 on the wall clock, with sub-ms precision.
    this.epochMs = performance.timeOrigin + this.t0;
  }

  /** Creates (truncates) the file and records the run-start header at t = 0. */
  static async open(path: string, opts: HistoryWriterOptions): Promise<HistoryWriter> {
    const file = await open(path, 'w');
    const w = new HistoryWriter(file, path, opts.flushBytes ?? 256 * 1024, opts.flushIntervalMs ?? 200);
    w.push({
      type: 'run-start',
      t: 0,
      scenario: opts.scenario,
      seed: opts.seed,
      epochMs: w.epochMs,
      options: opts.options ?? {},
    });
    return w;
  }

  /** Milliseconds since run start on the monotonic clock every event shares. */
  now(): number {
    return performance.now() - this.t0;
  }

  /** Converts a wall-clock epoch timestamp (database, realtime service) to run time. */
  fromEpoch(epochMs: number): number {
    return epochMs - this.epochMs;
  }

  /** Number of events recorded so far (including run-start). */
  get recorded(): number {
    return this.count;
  }

  /** The first write error, if any; `close()` rethrows it. */
  get error(): Error | undefined {
    return this.failure;
  }

  record(e: HistoryInput): void {
    if (this.closed) throw new Error(`history ${this.path} is closed; cannot record a ${e.type} event`);
    const event = (e.t === undefined ? { ...e, t: this.now() } : e) as HistoryEvent;
    this.push(event);
  }

  /**
   * Appends history lines serialised elsewhere (worker threads): `lines` is `count` complete
   * NDJSON lines (text, or its UTF-8 bytes), each with its own `t` on this writer's clock.
   */
  appendLines(lines: string | Uint8Array, count: number): void {
    if (this.closed) throw new Error(`history ${this.path} is closed; cannot append ${count} events`);
    this.buffer.push(lines);
    this.bufferedBytes += lines.length;
    this.count += count;
    this.scheduleWrite();
  }

  /** Waits until everything recorded so far is in the file. */
  async flush(): Promise<void> {
    this.startWrite();
    await this.writing;
    if (this.failure) throw this.failure;
  }

  /** Records run-end, writes the rest and closes the file. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return this.writing;
    this.push({ type: 'run-end', t: this.now() });
    this.closed = true;
    this.startWrite();
    await this.writing;
    await this.file.close();
    if (this.failure) throw this.failure;
  }

  private push(event: HistoryEvent): void {
    const line = JSON.stringify(event) + '\n';
    this.buffer.push(line);
    this.bufferedBytes += line.length;
    this.count++;
    this.scheduleWrite();
  }

  private scheduleWrite(): void {
    if (this.bufferedBytes >= this.flushBytes) this.startWrite();
    else if (!this.timer) {
      this.timer = setTimeout(() => this.startWrite(), this.flushIntervalMs);
      // A pending flush must not keep a finished process alive; close() flushes anyway.
      this.timer.unref();
    }
  }

  private startWrite(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.buffer.length === 0) return;
    const parts = this.buffer;
    this.buffer = [];
    this.bufferedBytes = 0;
    // Chained so that chunks land in the order they were recorded.
    this.writing = this.writing.then(async () => {
      if (this.failure) return;
      try {
        if (parts.every((p) => typeof p === 'string')) await this.file.write(parts.join(''));
        else await this.file.writev(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
      } catch (err) {
        this.failure = err instanceof Error ? err : new Error(String(err));
      }
    });
  }
}

/** Stores the final database state beside the history, where `readRun` expects it. */
export async function writeFinalState(path: string, final: FinalState): Promise<void> {
  await writeFile(path, JSON.stringify(final, null, 1) + '\n');
}
