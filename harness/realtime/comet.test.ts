/**
 * The comet transport through the real ably SDK in Node (`transports: ['comet']`: long-poll HTTP
 * instead of a WebSocket), against WebSocket clients on the same service.
 */
import type * as Ably from 'ably';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StartedRealtime } from './index.ts';
import { Clients, collector, eventually, rejection, startTestService } from './testing.ts';

let svc: StartedRealtime;
let clients: Clients;

beforeAll(async () => {
  ({ svc, clients } = await startTestService({ presenceLeaveGraceMs: 200 }));
});
afterAll(async () => {
  clients.closeAll();
  await svc.stop();
});

const comet = (opts: Ably.ClientOptions = {}) => clients.connected({ transports: ['comet'], ...opts });
const health = async () => (await (await fetch(`http://${svc.host}:${svc.port}/health`)).json()) as { connections: number; resumable: number };
const cometRequests = async () => Number(/realtime_rest_requests_total\{route="comet"\} (\d+)/.exec(await svc.metricsText())?.[1] ?? 0);

describe('comet transport', () => {
  it('connects over HTTP long polls, with no WebSocket', async () => {
    const before = await cometRequests();
    const c = await comet();
    expect(c.connection.id).toBeTruthy();
    expect(await cometRequests()).toBeGreaterThan(before);
    await c.channels.get('comet-plain').publish('x', 'one');
  });

  it.each([
    ['binary requested', true],
    ['text', false],
  ])('attaches, publishes and subscribes both ways with a WebSocket client (%s)', async (_n, useBinaryProtocol) => {
    const name = `comet-msg-${useBinaryProtocol}`;
    const viaComet = await comet({ useBinaryProtocol });
    const viaWs = await clients.connected({ useBinaryProtocol });
    const onComet = await collector(viaComet.channels.get(name));
    const onWs = await collector(viaWs.channels.get(name));
    const bytes = new Uint8Array([0, 1, 2, 250]);
    await viaComet.channels.get(name).publish('from-comet', { n: 1 });
    await viaWs.channels.get(name).publish('from-ws', bytes);
    await onComet.until(2);
    await onWs.until(2);
    for (const got of [onComet.got, onWs.got]) {
      expect(got.map((m) => m.name)).toEqual(['from-comet', 'from-ws']);
      expect(got[0]!.data).toEqual({ n: 1 });
      expect(new Uint8Array(got[1]!.data as ArrayBuffer)).toEqual(bytes);
    }
  });

  it('enters, updates and leaves presence', async () => {
    const member = await comet({ clientId: 'comet-member' });
    const watcher = await clients.connected();
    const ch = member.channels.get('comet-presence');
    await ch.presence.enter('here');
    await ch.presence.update('still here');
    const seen = await watcher.channels.get('comet-presence').presence.get();
    expect(seen.map((p) => [p.clientId, p.data])).toEqual([['comet-member', 'still here']]);
    await ch.presence.leave();
    await eventually(async () => (await watcher.channels.get('comet-presence').presence.get()).length === 0, 'the member to leave');
  });

  it('resumes after its poll is dropped: every message once, in order, on the same connection', async () => {
    const name = 'comet-resume';
    const sub = await comet();
    const id = sub.connection.id;
    const ch = sub.channels.get(name);
    const got = await collector(ch);
    const changes: Ably.ChannelStateChange[] = [];
    ch.on((c) => void changes.push(c));
    const pub = await clients.connected();
    const N = 60;
    for (let i = 0; i < N; i++) {
      await pub.channels.get(name).publish('seq', String(i));
      if (i === 20 || i === 40) {
        await got.until(i - 5);
        // Cut the comet client's open request (the WebSocket publisher's socket with it).
        expect(svc.admin.dropConnections(1)).toBeGreaterThanOrEqual(1);
      }
    }
    await got.until(N, 15_000);
    expect(got.got.map((m) => m.data)).toEqual(Array.from({ length: N }, (_, i) => String(i)));
    expect(sub.connection.id).toBe(id);
    const reattached = changes.filter((c) => c.current === 'attached');
    expect(reattached.length).toBeGreaterThanOrEqual(1);
    expect(reattached.every((c) => c.resumed)).toBe(true);
  });

  it('recovers a connection from its recovery key; the client it came from gets a new one (80008)', async () => {
    const first = await comet();
    const id = first.connection.id;
    await first.channels.get('comet-recover').attach();
    const recover = first.connection.createRecoveryKey()!;
    const lostFirst = new Promise<Ably.ConnectionStateChange>((r) => first.connection.once('disconnected', r));
    const second = await comet({ recover });
    expect(second.connection.id).toBe(id);
    await lostFirst;
    const back = await new Promise<Ably.ConnectionStateChange>((r) => first.connection.once('connected', r));
    expect(back.reason?.code).toBe(80008);
    expect(first.connection.id).not.toBe(id);
    const got = await collector(second.channels.get('comet-recover'));
    await clients.rest().channels.get('comet-recover').publish('after', 'x');
    await got.until(1);
    expect(second.connection.id).toBe(id);
  });

  it('applies the same limits and auth as a WebSocket connection', async () => {
    const c = await comet();
    const err = await rejection(c.channels.get('comet-big').publish('big', 'x'.repeat(70_000)));
    expect(err.code).toBe(40009);
    expect(c.connection.state).toBe('connected');

    const bad = clients.realtime({ transports: ['comet'], key: `${svc.keys[0]!.keyName}:wrong` });
    await bad.connection.whenState('failed');
    expect(bad.connection.errorReason?.code).toBe(40101);

    // A token client without the publish capability is refused by channel, the connection stays.
    const rest = clients.rest();
    const ro = await comet({ authCallback: (_p, cb) => void rest.auth.requestToken({ capability: { '*': ['subscribe'] } }).then((t) => cb(null, t), (e: Ably.ErrorInfo) => cb(e, null)) });
    expect((await rejection(ro.channels.get('comet-ro').publish('m', 'one'))).code).toBe(40160);
    expect(ro.connection.state).toBe('connected');
  });

  it('rate limits as over WebSocket: 42911 NACKs, and 42921 fails a runaway connection', async () => {
    const tight = await startTestService({ limits: { connectionInboundRate: 5, fatalInboundFactor: 4, appliesTo: 'all' } });
    try {
      const c = await tight.clients.connected({ transports: ['comet'] });
      const ch = c.channels.get('comet-flood');
      const outcomes = await Promise.all(Array.from({ length: 12 }, (_, i) => ch.publish('m', String(i)).then(() => 0, (e: Ably.ErrorInfo) => e.code)));
      expect(outcomes).toContain(0);
      expect(new Set(outcomes.filter((x) => x !== 0))).toEqual(new Set([42911]));
      expect(c.connection.state).toBe('connected');
      const failed = new Promise<Ably.ConnectionStateChange>((r) => c.connection.once('failed', r));
      for (let i = 0; i < 60; i++) void ch.publish('m', String(i)).catch(() => undefined);
      expect((await failed).reason?.code).toBe(42921);
    } finally {
      tight.clients.closeAll();
      await tight.svc.stop();
    }
  });

  it('renews an expiring token and resumes on the same connection', async () => {
    const rest = clients.rest();
    let issued = 0;
    const c = await comet({
      authCallback: (_p, cb) => {
        issued++;
        void rest.auth.requestToken({ ttl: 1500 }).then((t) => cb(null, t), (e: Ably.ErrorInfo) => cb(e, null));
      },
    });
    const id = c.connection.id;
    await new Promise<void>((resolve) => c.connection.once('disconnected', () => resolve()));
    await c.connection.whenState('connected');
    expect(issued).toBeGreaterThanOrEqual(2);
    expect(c.connection.id).toBe(id);
  });

  it('close ends the connection on the server at once', async () => {
    const c = await comet({ clientId: 'closer' });
    await c.channels.get('comet-close').presence.enter();
    const before = (await health()).connections;
    c.close();
    await c.connection.whenState('closed');
    await eventually(async () => (await health()).connections === before - 1, 'the connection to end on the server');
    const watcher = await clients.connected();
    expect(await watcher.channels.get('comet-close').presence.get()).toEqual([]);
  });
});
