/** Channel history held in memory is bounded per channel by count, bytes and age, as configured; evictions are counted. */
import * as Ably from 'ably';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StartedRealtime } from './index.ts';
import { Clients, eventually, startTestService } from './testing.ts';

let svc: StartedRealtime;
let clients: Clients;

beforeAll(async () => {
  ({ svc, clients } = await startTestService({ historyMaxBytes: 64 << 10, historyMaxRecords: 10, historyTtlMs: 60_000 }));
});
afterAll(async () => {
  clients.closeAll();
  await svc.stop();
});

async function publishEach(channel: string, datas: string[]): Promise<void> {
  const ch = (await clients.connected()).channels.get(channel);
  for (const d of datas) await ch.publish('m', d);
}

async function historyData(channel: string): Promise<string[]> {
  const page = await clients.rest().channels.get(channel).history({ limit: 1000, direction: 'forwards' });
  return page.items.map((m) => String(m.data));
}

function metric(text: string, name: string): number {
  const m = new RegExp(`^${name.replace(/[{}]/g, '\\$&')} (\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

describe('history memory bounds', () => {
  it('keeps the newest records within the byte budget and counts the evictions', async () => {
    const big = Array.from({ length: 9 }, (_, i) => `${i}:${'x'.repeat(20_000)}`);
    await publishEach('heavy', big);
    const kept = await historyData('heavy');
    // 64 KB holds three 20 KB messages; the rest go, oldest first.
    expect(kept.map((d) => d.split(':')[0])).toEqual(['6', '7', '8']);
    const text = await svc.metricsText();
    expect(metric(text, 'realtime_history_evicted_total{reason="bytes"}')).toBe(6);
    expect(metric(text, 'realtime_history_bytes')).toBeLessThanOrEqual(64 << 10);
  });

  it('keeps at most historyMaxRecords records per channel', async () => {
    await publishEach('chatty', Array.from({ length: 15 }, (_, i) => String(i)));
    expect(await historyData('chatty')).toEqual(Array.from({ length: 10 }, (_, i) => String(i + 5)));
    expect(metric(await svc.metricsText(), 'realtime_history_evicted_total{reason="count"}')).toBe(5);
  });

  it('bounds presence history the same way', async () => {
    const before = metric(await svc.metricsText(), 'realtime_history_evicted_total{reason="count"}');
    const ch = (await clients.connected()).channels.get('crowd');
    for (let i = 0; i < 12; i++) await ch.presence.enterClient(`member-${i}`, 'here');
    const events = await clients.rest().channels.get('crowd').presence.history({ limit: 100, direction: 'forwards' });
    expect(events.items.map((e) => e.clientId)).toEqual(Array.from({ length: 10 }, (_, i) => `member-${i + 2}`));
    expect(metric(await svc.metricsText(), 'realtime_history_evicted_total{reason="count"}') - before).toBe(2);
  });

  it('forgets records older than historyTtlMs, without a publish to trigger it', async () => {
    const own = await startTestService({ historyTtlMs: 200 });
    try {
      const c = await own.clients.connected();
      await c.channels.get('brief').publish('m', 'soon gone');
      const rest = own.clients.rest();
      expect((await rest.channels.get('brief').history()).items).toHaveLength(1);
      await eventually(async () => (await rest.channels.get('brief').history()).items.length === 0, 'the record to age out');
      expect(metric(await own.svc.metricsText(), 'realtime_history_evicted_total{reason="age"}')).toBe(1);
    } finally {
      own.clients.closeAll();
      await own.svc.stop();
    }
  });

  it('refuses a byte budget below 1 KB, naming the option', async () => {
    await expect(startTestService({ historyMaxBytes: 10 })).rejects.toThrow(/historyMaxBytes/);
  });

  it('a subscriber attaching with rewind still gets the retained tail', async () => {
    await publishEach('rewound', Array.from({ length: 5 }, (_, i) => `${i + 4}:${'y'.repeat(20_000)}`));
    const c = await clients.connected();
    const ch = c.channels.get('[?rewind=2]rewound');
    const got: Ably.InboundMessage[] = [];
    await ch.subscribe((m) => void got.push(m));
    await eventually(async () => got.length === 2, 'two rewound messages');
    expect(got.map((m) => String(m.data).split(':')[0])).toEqual(['7', '8']);
  });
});
