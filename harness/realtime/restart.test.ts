import type * as Ably from 'ably';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StartedRealtime } from './index.ts';
import { Clients, collector, startTestService, waitFor } from './testing.ts';

let svc: StartedRealtime;
let clients: Clients;

beforeAll(async () => {
  ({ svc, clients } = await startTestService());
});
afterAll(async () => {
  clients.closeAll();
  await svc.stop();
});

const onceState = (c: Ably.Realtime, state: Ably.ConnectionState) => new Promise<void>((resolve) => c.connection.once(state, () => resolve()));

describe('restart of the whole service', () => {
  it('loses every connection: clients reconnect by themselves to a new connection, their channels report lost continuity, and traffic flows again', async () => {
    const pub = await clients.connected();
    const sub = await clients.connected();
    const before = sub.connection.id;
    const ch = sub.channels.get('restart-1');
    const got = await collector(ch);
    const changes: Ably.ChannelStateChange[] = [];
    ch.on((c) => void changes.push(c));
    await pub.channels.get('restart-1').publish('m', 'before');
    await got.until(1, 5_000);

    const reconnected = Promise.all([onceState(sub, 'connected'), onceState(pub, 'connected')]);
    const { connectionsLost } = await svc.admin.restart(0);
    expect(connectionsLost).toBeGreaterThanOrEqual(2);
    await reconnected;
    expect(sub.connection.id).not.toBe(before);
    await waitFor(() => changes.some((c) => c.current === 'attached' && !c.resumed), 'a reattachment without continuity', 10_000);

    await pub.channels.get('restart-1').publish('m', 'after');
    await got.until(2, 5_000);
    expect(got.got.map((m) => m.data)).toEqual(['before', 'after']);
  });

  it('keeps its port closed while down, and forgets channel storage: a rewind after the restart finds nothing published before it', async () => {
    // The SDK retries at once, then after disconnectedRetryTimeout (15 s by default): shortened here.
    const pub = await clients.connected({ disconnectedRetryTimeout: 300 });
    await pub.channels.get('restart-2').publish('m', 'old');
    const t0 = performance.now();
    const back = onceState(pub, 'connected');
    await svc.admin.restart(400);
    await back;
    expect(performance.now() - t0).toBeGreaterThanOrEqual(400);
    await pub.channels.get('restart-2').publish('m', 'new');
    const late = await clients.connected();
    const ch = late.channels.get('restart-2', { params: { rewind: '10' } });
    const got = await collector(ch);
    await got.until(1, 5_000);
    expect(got.got.map((m) => m.data)).toEqual(['new']);
  });
});
