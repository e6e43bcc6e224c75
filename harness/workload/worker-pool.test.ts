/**
 * Virtual users in two worker threads against a real stack: SDK writers and readers plus a
 * light reader, their history written by the main thread on one clock, judged by the checkers.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCheckers } from '../checks/index.ts';
import { readHistory } from '../history/reader.ts';
import type { HistoryEvent } from '../history/types.ts';
import { HistoryWriter } from '../history/writer.ts';
import { LiveStats } from '../runner/live-stats.ts';
import { captureFinalState } from '../runner/run.ts';
import { startStack, type StartedStack } from '../stack/index.ts';
import { freshDatabase } from '../testing/pg.ts';
import type { EventBatch } from './thread-recorder.ts';
import { VuPool, defaultWorkers } from './worker-pool.ts';

let stack: StartedStack;

beforeAll(async () => {
  stack = await startStack({ databaseUrl: await freshDatabase() });
});

afterAll(async () => {
  await stack?.stop();
});

describe('virtual users in worker threads', () => {
  it('keeps a core for the main thread and never goes below one worker', () => {
    expect(defaultWorkers(1)).toBe(1);
    expect(defaultWorkers(2)).toBe(1);
    expect(defaultWorkers(8)).toBe(7);
  });

  it('runs SDK users and a light reader in 2 workers; their events share the main clock and the checkers pass', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vu-pool-'));
    const path = join(dir, 'history.ndjson');
    const writer = await HistoryWriter.open(path, { scenario: 'worker-pool-test', seed: 1 });
    const stats = new LiveStats(writer);
    const room = `pool-${Date.now().toString(36)}`;
    const expected = { deliveries: 0 };
    let reached: () => void = () => {};
    const allDelivered = new Promise<void>((r) => (reached = r));
    const pool = new VuPool({
      workers: 2,
      startNs: process.hrtime.bigint() - BigInt(Math.round(stats.now() * 1e6)),
      epochMs: writer.epochMs,
      realtime: stack.realtimeClientOptions,
      loginUrl: stack.endpoints.loginUrl,
      tokenUrl: stack.endpoints.tokenUrl,
      historyUrl: stack.endpoints.historyUrl,
      ignoreVersions: false,
      healthIntervalMs: 200,
      onBatch: (b: EventBatch) => {
        stats.ingest(b);
        if (expected.deliveries > 0 && stats.delivered >= expected.deliveries) reached();
      },
    });
    try {
      const w0 = pool.create('pool-w0', room, { late: false, client: 'sdk' });
      const w1 = pool.create('pool-w1', room, { late: false, client: 'sdk' });
      const r0 = pool.create('pool-r0', room, { late: false, client: 'sdk' });
      const light = pool.create('pool-light', room, { late: false, client: 'light' });
      const everyone = [w0, w1, r0, light];
      await Promise.all(everyone.map((u) => u.join()));
      expect(everyone.every((u) => u.isJoined)).toBe(true);
      await pool.startHealth();

      // Posts from both workers, edits of each, a delete: 3 + 3 + 1 changes, each to 4 subscribers.
      expect(await w0.post('pool-op-1', 'pool-op-1 hello')).toBe(true);
      expect(await w1.post('pool-op-2', 'pool-op-2 there')).toBe(true);
      expect(await w0.post('pool-op-3', 'pool-op-3 again')).toBe(true);
      expect(w0.ownPosts).toEqual(['pool-op-1', 'pool-op-3']);
      expected.deliveries = 7 * everyone.length;
      await Promise.all([w0.edit('pool-op-4', 'pool-op-1', 'pool-op-4 edited'), w1.edit('pool-op-5', 'pool-op-2', 'pool-op-5 edited')]);
      await w0.edit('pool-op-6', 'pool-op-3', 'pool-op-6 edited');
      await w0.delete('pool-op-7', 'pool-op-3');
      await stack.quiesce(10_000);
      await allDelivered;

      const threads = await pool.stopHealth();
      expect(threads.map((t) => [t.thread, t.users])).toEqual([['worker-0', 2], ['worker-1', 2]]);
      for (const t of threads) expect(t.busyUs).toBeGreaterThan(0);
      await Promise.all(everyone.map((u) => u.settled()));
      await Promise.all(everyone.map((u) => u.recordView()));
      const final = await captureFinalState(stack.endpoints.databaseUrl, [room], writer.epochMs);
      await Promise.all(everyone.map((u) => u.leave()));
      expect(everyone.some((u) => u.isJoined)).toBe(false);
      await pool.stop();
      await writer.close();

      const history = await readHistory(path);
      const end = history.at(-1)!;
      expect(end.type).toBe('run-end');
      for (const e of history) expect(e.t).toBeGreaterThanOrEqual(0);
      for (const e of history) expect(e.t).toBeLessThanOrEqual(end.t);
      // Causality across threads on one clock: each receipt after the publish that caused it.
      const invokedAt = new Map(history.flatMap((e) => (e.type === 'invoke' && e.messageId && e.text ? [[`${e.messageId}|${e.text}`, e.t] as const] : [])));
      const receives = history.filter((e): e is Extract<HistoryEvent, { type: 'receive' }> => e.type === 'receive');
      expect(receives).toHaveLength(expected.deliveries);
      for (const r of receives.filter((x) => !x.deleted)) expect(r.t).toBeGreaterThan(invokedAt.get(`${r.messageId}|${r.text}`)!);
      // Each client's events keep the order their thread recorded them in.
      for (const u of everyone) {
        const ts = history.filter((e) => 'client' in e && e.client === u.clientId).map((e) => e.t);
        for (let i = 1; i < ts.length; i++) expect(ts[i]!).toBeGreaterThanOrEqual(ts[i - 1]!);
      }
      // Every worker sampled its health under its own name.
      const sampled = new Set(history.flatMap((e) => (e.type === 'health' ? [e.thread] : [])));
      expect(sampled).toEqual(new Set(['worker-0', 'worker-1']));
      for (const c of runCheckers(history, final)) expect({ name: c.name, valid: c.valid }).toEqual({ name: c.name, valid: true });
    } finally {
      await pool.stop();
    }
  });

  it('rejects calls once a worker is gone, instead of waiting forever', async () => {
    const writer = await HistoryWriter.open(join(await mkdtemp(join(tmpdir(), 'vu-pool-')), 'h.ndjson'), { scenario: 't', seed: 1 });
    const stats = new LiveStats(writer);
    const pool = new VuPool({
      workers: 1,
      startNs: process.hrtime.bigint(),
      epochMs: writer.epochMs,
      realtime: stack.realtimeClientOptions,
      loginUrl: stack.endpoints.loginUrl,
      tokenUrl: stack.endpoints.tokenUrl,
      ignoreVersions: false,
      healthIntervalMs: 1000,
      onBatch: (b) => stats.ingest(b),
    });
    const u = pool.create('pool-gone', 'pool-gone-room', { late: false, client: 'sdk' });
    await pool.stop();
    await expect(u.join()).rejects.toThrow(/worker-0/);
    await writer.close();
  });
});
