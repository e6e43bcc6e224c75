/**
 * The light reader against a real stack whose tokens live 2 s: it receives every change once,
 * its view converges with the database, and it keeps receiving after its first token expired
 * (it answers the service's AUTH with a renewed token instead of being dropped).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCheckers } from '../checks/index.ts';
import { inClockOrder } from '../history/reader.ts';
import type { HistoryEvent } from '../history/types.ts';
import { captureFinalState } from '../runner/run.ts';
import { startStack, type StartedStack } from '../stack/index.ts';
import { freshDatabase } from '../testing/pg.ts';
import { LightReader } from './light-reader.ts';
import { MemoryRecorder } from './recorder.ts';
import { SharedFrameDecoder } from './shared-frames.ts';
import { VirtualUser } from './virtual-user.ts';

const TOKEN_TTL_MS = 2000;
let stack: StartedStack;

beforeAll(async () => {
  stack = await startStack({ databaseUrl: await freshDatabase(), tokenTtlMs: TOKEN_TTL_MS });
});

afterAll(async () => {
  await stack?.stop();
});

/** Resolves when `pred` holds for the recorder's events, checked on every recorded event. */
function when(rec: MemoryRecorder, pred: (events: readonly HistoryEvent[]) => boolean): Promise<void> {
  return new Promise((resolve) => {
    const record = rec.record.bind(rec);
    if (pred(rec.events)) return resolve();
    rec.record = (e, line) => {
      record(e, line);
      if (pred(rec.events)) {
        rec.record = record;
        resolve();
      }
    };
  });
}

describe('light reader', () => {
  it('receives every change once, converges, and outlives its first token', async () => {
    const rec = new MemoryRecorder();
    const room = `light-${Date.now().toString(36)}`;
    const c = stack.realtimeClientOptions;
    // Two readers decode each frame once between them, and hand the recorder their receipts' lines.
    const frames = new SharedFrameDecoder();
    const lines: Array<{ e: HistoryEvent; line: string }> = [];
    const record = rec.record.bind(rec);
    rec.record = (e, line) => {
      if (line !== undefined) lines.push({ e, line });
      record(e);
    };
    const lightReader = (clientId: string) =>
      new LightReader({
        clientId,
        room,
        realtime: { host: String(c.endpoint), port: Number(c.port), tls: false },
        loginUrl: stack.endpoints.loginUrl,
        tokenUrl: stack.endpoints.tokenUrl,
        recorder: rec,
        frames,
      });
    const reader = lightReader('light-r0');
    const second = lightReader('light-r1');
    const writer = new VirtualUser({
      clientId: 'light-w0',
      room,
      realtime: c,
      auth: { kind: 'session', loginUrl: stack.endpoints.loginUrl, tokenUrl: stack.endpoints.tokenUrl },
      recorder: rec,
    });
    const receipts = (by = reader) => rec.events.filter((e) => e.type === 'receive' && e.client === by.clientId).length;
    try {
      await Promise.all([reader.join(), second.join(), writer.join()]);
      const joinedAt = Date.now();
      await writer.post('light-op-1', 'light-op-1 one');
      await writer.post('light-op-2', 'light-op-2 two');
      await writer.edit('light-op-3', 'light-op-1', 'light-op-3 edited');
      await writer.delete('light-op-4', 'light-op-2');
      await when(rec, () => receipts() >= 4);

      // Past the first token's expiry: only a renewed token keeps this reader connected.
      await new Promise((r) => setTimeout(r, Math.max(0, joinedAt + TOKEN_TTL_MS + 500 - Date.now())));
      expect(reader.isJoined).toBe(true);
      await writer.post('light-op-5', 'light-op-5 after renewal');
      await when(rec, () => receipts() >= 5 && receipts(second) >= 5);
      await stack.quiesce(10_000);

      const ofSecond = rec.events.filter((e): e is Extract<HistoryEvent, { type: 'receive' }> => e.type === 'receive' && e.client === second.clientId);
      expect(ofSecond.map((e) => e.eventId).sort()).toEqual(
        rec.events
          .filter((e): e is Extract<HistoryEvent, { type: 'receive' }> => e.type === 'receive' && e.client === reader.clientId)
          .map((e) => e.eventId)
          .sort(),
      );
      expect(lines.length).toBe(receipts() + receipts(second));
      for (const { e, line } of lines) expect(JSON.parse(line)).toEqual(e);

      expect(reader.catchUpErrors).toEqual([]);
      const mine = rec.events.filter((e): e is Extract<HistoryEvent, { type: 'receive' }> => e.type === 'receive' && e.client === reader.clientId);
      expect(new Set(mine.map((e) => e.eventId)).size).toBe(mine.length);
      // The default integration may commit different rows in another order than sent; each row's own changes stay in order.
      const perRow = (id: string) => mine.filter((e) => e.messageId === id).map((e) => e.name);
      expect([perRow('light-op-1'), perRow('light-op-2'), perRow('light-op-5')]).toEqual([['INSERT', 'UPDATE'], ['INSERT', 'UPDATE'], ['INSERT']]);
      // Stage timestamps come through like the SDK reader's: commit and connector publish times.
      for (const e of mine) expect(e.commitT).toBeTypeOf('number');
      for (const e of mine) expect(e.publishT).toBeTypeOf('number');
      // The publish time is the connector's own, in µs (the realtime timestamp has whole ms), and
      // falls between the commit and the receipt; 1 ms allows for three processes' clocks.
      const allReceipts = rec.events.filter((e): e is Extract<HistoryEvent, { type: 'receive' }> => e.type === 'receive');
      const fraction = (runMs: number) => Math.abs(runMs + rec.epochMs - Math.round(runMs + rec.epochMs));
      expect(allReceipts.some((e) => fraction(e.publishT!) > 0.001)).toBe(true);
      for (const e of allReceipts) {
        expect(e.publishT!).toBeGreaterThan(e.commitT! - 1);
        expect(e.publishT!).toBeLessThan(e.t + 1);
      }

      await writer.settled();
      reader.recordView();
      second.recordView();
      writer.recordView();
      const final = await captureFinalState(stack.endpoints.databaseUrl, [room], rec.epochMs);
      const history: HistoryEvent[] = inClockOrder([{ type: 'run-start', t: 0, scenario: 'light-reader', seed: 0, epochMs: rec.epochMs, options: {} }, ...rec.events, { type: 'run-end', t: rec.now() }]);
      for (const check of runCheckers(history, final)) expect({ name: check.name, valid: check.valid }).toEqual({ name: check.name, valid: true });
    } finally {
      await Promise.all([reader.leave(), second.leave(), writer.leave()]);
    }
    expect(reader.isJoined).toBe(false);
  });
});
