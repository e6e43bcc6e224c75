/** The worker-side recorder: one clock with the main thread, batches by size and by time, the figures LiveStats needs. */
import { describe, expect, it } from 'vitest';
import { LiveStats } from '../runner/live-stats.ts';
import type { RecordedEvent } from './recorder.ts';
import { ThreadRecorder, type EventBatch } from './thread-recorder.ts';

describe('ThreadRecorder', () => {
  it('measures t from the given origin on process.hrtime, like performance.now() does', () => {
    const originMs = performance.now();
    const startNs = process.hrtime.bigint();
    const rec = new ThreadRecorder(startNs, 0, () => {});
    const a = rec.now();
    const b = performance.now() - originMs;
    expect(a).toBeGreaterThanOrEqual(0);
    // Same clock: the two readings, taken in this order, agree to well under a millisecond.
    expect(Math.abs(b - a)).toBeLessThan(1);
  });

  it('sends full batches at once and the rest on its timer, as NDJSON lines with the figures beside them', async () => {
    const batches: EventBatch[] = [];
    let timerBatch: () => void = () => {};
    const timed = new Promise<void>((r) => (timerBatch = r));
    const rec = new ThreadRecorder(process.hrtime.bigint(), 0, (b) => (batches.push(b), batches.length === 2 && timerBatch()), { flushMs: 5, maxEvents: 3 });
    const events: RecordedEvent[] = [
      { t: 1, type: 'invoke', opId: 'o1', op: 'post', client: 'w', room: 'r', messageId: 'o1', text: 'o1 hi' },
      { t: 2, type: 'ack', opId: 'o1' },
      { t: 3, type: 'receive', client: 'r', room: 'r', eventId: 'e1', name: 'INSERT', messageId: 'o1', version: 1, deleted: false, text: 'o1 hi', author: 'w', applied: true },
      { t: 4, type: 'fail', opId: 'o2', error: 'x' },
    ];
    for (const e of events) rec.record(e);
    expect(batches).toHaveLength(1);
    await timed;
    expect(batches.map((b) => b.count)).toEqual([3, 1]);
    const lines = batches.map((b) => Buffer.from(b.lines).toString()).join('');
    expect(lines.endsWith('\n')).toBe(true);
    expect(lines.trim().split('\n').map((l) => JSON.parse(l) as RecordedEvent)).toEqual(events);
    expect(batches[0]!.stats).toMatchObject({ invokeT: [1], invokeKey: ['o1|o1 hi'], acked: 1, receiveT: [3], receiveKey: ['o1|o1 hi'] });
    expect(batches[1]!.stats).toMatchObject({ failed: 1, receiveT: [] });
  });

  it('hands LiveStats the lines for the history and the counts and e2e for the progress line', () => {
    const appended: Array<string | Uint8Array> = [];
    const inner = { now: () => 0, epochMs: 0, record: () => {}, appendLines: (l: string | Uint8Array) => void appended.push(l) };
    const stats = new LiveStats(inner);
    let batch: EventBatch | undefined;
    const rec = new ThreadRecorder(process.hrtime.bigint(), 0, (b) => (batch = b));
    rec.record({ t: 10, type: 'invoke', opId: 'o1', op: 'edit', client: 'w', room: 'r', messageId: 'm1', text: 'o1 new' });
    rec.record({ t: 35, type: 'receive', client: 'r', room: 'r', eventId: 'e1', name: 'UPDATE', messageId: 'm1', version: 2, deleted: false, text: 'o1 new', author: 'w', applied: true });
    rec.flush();
    stats.ingest(batch!);
    expect(appended).toEqual([batch!.lines]);
    expect([stats.invoked, stats.delivered]).toEqual([1, 1]);
    expect(stats.sample().p99Ms).toBeCloseTo(25, 1);
  });

  it('moves its lines as UTF-8 bytes, whatever their characters and however long a line is', () => {
    const batches: EventBatch[] = [];
    const transfers: ArrayBuffer[][] = [];
    const rec = new ThreadRecorder(process.hrtime.bigint(), 0, (b, t) => (batches.push(b), transfers.push(t)), { flushMs: 1000, maxEvents: 100 });
    const receipt = (t: number, text: string): RecordedEvent => ({ t, type: 'receive', client: 'r', room: 'r', eventId: `e${t}`, name: 'INSERT', messageId: `m${t}`, version: 1, deleted: false, text, author: 'w', applied: true });
    // Longer than a batch's first buffer, and characters of 2, 3 and 4 UTF-8 bytes.
    const events = [receipt(1, 'é 😀 ✓ "quoted" \\ back'), receipt(2, 'x'.repeat(1_500_000)), receipt(3, '中文')];
    for (const e of events) rec.record(e);
    // A line given ready-made is taken as it is.
    rec.record(receipt(4, 'ready'), JSON.stringify(receipt(4, 'ready')));
    rec.flush();
    const text = batches.map((b) => Buffer.from(b.lines).toString('utf8')).join('');
    expect(text.trim().split('\n').map((l) => JSON.parse(l) as RecordedEvent)).toEqual([...events, receipt(4, 'ready')]);
    expect(batches.reduce((n, b) => n + b.count, 0)).toBe(4);
    // Each batch's bytes are handed over, not copied.
    for (const [i, b] of batches.entries()) expect(transfers[i]).toEqual([b.lines.buffer]);
  });
});
