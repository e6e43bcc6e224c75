/**
 * Whole virtual-user sessions of the k6 scripts (schedule, planner, bookkeeping), run under Node
 * against a started stack: two writers and a reader in one room for a short edit-storm.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roomName, userName } from '../../scenarios/k6/lib/config.ts';
import { hashString } from '../../scenarios/k6/lib/planner.ts';
import type { RealtimeTarget } from '../../scenarios/k6/lib/protocol.ts';
import type { VuPlan } from '../../scenarios/k6/lib/vu.ts';
import { arrivalsBy, editStorm } from '../../scenarios/k6/lib/workloads.ts';
import { startStack, type StartedStack } from '../stack/index.ts';
import { freshDatabase } from '../testing/pg.ts';
import { recordingSink, runSession, signIn } from './node-session.ts';

let stack: StartedStack;
let target: RealtimeTarget;

beforeAll(async () => {
  stack = await startStack({ databaseUrl: await freshDatabase() });
  target = { host: stack.endpoints.realtime.host, port: stack.endpoints.realtime.port, tls: false };
});

afterAll(async () => {
  await stack?.stop();
});

describe('k6 virtual users against the local stack', () => {
  it('writers publish their share of the schedule and every subscriber receives every change once', async () => {
    const runTag = 'vutest';
    const room = roomName(runTag, 0);
    const options = { ...editStorm.defaults, durationMs: 2000, rate: 20, users: 2, rooms: 1, readers: 1 };
    const executor = editStorm.executor(options);
    const writers = 2;
    const names = [userName(runTag, 'w', 0), userName(runTag, 'w', 1), userName(runTag, 'r', 0)];
    const tokens = await Promise.all(names.map((n) => signIn(stack.endpoints.loginUrl, stack.endpoints.tokenUrl, target, n)));
    const loadStart = Date.now() + 800;
    const window = { loadStart, loadEnd: loadStart + options.durationMs, drainEnd: loadStart + options.durationMs + 3000 };
    const plan = (i: number, writer: boolean): VuPlan => ({
      clientId: names[i]!,
      room,
      ...(writer
        ? { writer: { mix: editStorm.mix, hot: editStorm.hot, executor, share: 1 / writers, phase: i / writers, seed: (7 ^ hashString(names[i]!)) >>> 0 } }
        : {}),
      ...window,
      maxInFlight: 200,
      publishTimeoutMs: 10_000,
    });
    const sinks = names.map(() => recordingSink());
    const logs: string[] = [];
    await Promise.all([0, 1, 2].map((i) => runSession(plan(i, i < 2), target, tokens[i]!.token, sinks[i]!, logs)));
    const [w0, w1, r] = sinks.map((s) => s.counts) as [typeof sinks[0]['counts'], typeof sinks[0]['counts'], typeof sinks[0]['counts']];

    expect(logs).toEqual([]);
    // Together the writers started exactly the workload's arrivals (typing included), none dropped.
    const due = Math.floor(arrivalsBy(executor, options.durationMs));
    expect(w0.ops + w0.typing + w1.ops + w1.typing + w0.dropped + w1.dropped).toBe(due);
    expect(w0.dropped + w1.dropped).toBe(0);
    for (const w of [w0, w1]) {
      expect(w.ops).toBeGreaterThan(5);
      expect(w.acked).toBe(w.ops);
      expect(w).toMatchObject({ failed: 0, lost: 0, pending: 0, duplicated: 0, errors: 0 });
    }
    // Each change is authored by one writer, and every subscriber of the room got each one once.
    const committed = w0.committed_seen + w1.committed_seen;
    // An acknowledged write commits one change, unless the chat-writer refuses it (an edit racing a delete).
    expect(committed).toBeLessThanOrEqual(w0.acked + w1.acked);
    expect(committed).toBeGreaterThan((w0.acked + w1.acked) / 2);
    expect(r.deliveries).toBe(committed);
    expect(w0.deliveries).toBe(committed);
    expect(w1.deliveries).toBe(committed);
    expect(r).toMatchObject({ ops: 0, duplicated: 0, out_of_order: 0, errors: 0 });

    const e2e = sinks.flatMap((s) => s.trends.e2e_latency);
    expect(e2e.length).toBeGreaterThan(10);
    // Measured, not judged: every sample is a real duration.
    for (const ms of e2e) expect(Number.isFinite(ms) && ms >= 0).toBe(true);
    expect(sinks[2]!.trends.edit_propagation.length).toBeGreaterThan(0);
    expect(sinks[0]!.trends.ack_latency.length).toBe(w0.acked);
  });
});
