/** Ably's per-app limits, seen through the real SDK (and a raw socket where no SDK would misbehave). */
import * as Ably from 'ably';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { StartedRealtime } from './index.ts';
import { Clients, startTestService } from './testing.ts';

let svc: StartedRealtime;
let clients: Clients;
let strict: StartedRealtime;

beforeAll(async () => {
  ({ svc, clients } = await startTestService({ limits: { connectionInboundRate: 10, channelInboundRate: 15, fatalInboundFactor: 5, maxChannelsPerConnection: 3, maxPresenceMembers: 2 } }));
  strict = (await startTestService({ limits: { appliesTo: 'all', protocolMessageRate: 20 } })).svc;
});
afterAll(async () => {
  clients.closeAll();
  await Promise.all([svc.stop(), strict.stop()]);
});

/** A token client, as an end user connects (the rates apply to tokens by default). */
function user(clientId: string): Promise<Ably.Realtime> {
  const signer = clients.rest();
  return clients.connected({
    authCallback: (_p, cb) => void signer.auth.createTokenRequest({ clientId }).then((r) => cb(null, r), (e: Ably.ErrorInfo) => cb(e, null)),
  });
}

async function publishMany(c: Ably.Realtime, channel: string, n: number): Promise<Array<number | 'ok'>> {
  const ch = c.channels.get(channel);
  const r = await Promise.allSettled(Array.from({ length: n }, (_, i) => ch.publish('m', String(i))));
  return r.map((x) => (x.status === 'fulfilled' ? 'ok' : (x.reason as Ably.ErrorInfo).code));
}

function rawSocket(s: StartedRealtime, frames: Array<string | Buffer>): Promise<{ errors: number[]; code: number }> {
  const ws = new WebSocket(`ws://${s.host}:${s.port}/?key=${encodeURIComponent(s.apiKey)}&format=json`);
  const errors: number[] = [];
  ws.on('message', (d: Buffer) => {
    const f = JSON.parse(d.toString()) as { action: number; error?: { code: number } };
    if (f.action === 4) for (const x of frames) ws.send(x);
    if (f.action === 9 && f.error) errors.push(f.error.code);
  });
  return new Promise((resolve, reject) => {
    ws.on('close', (code: number) => resolve({ errors, code }));
    ws.on('error', reject);
  });
}

describe('rate limits with Ably codes', () => {
  it('NACKs a connection publishing over its rate with 42911 and keeps it open', async () => {
    const c = await user('flooder');
    const r = await publishMany(c, 'flood-a', 30);
    expect(r.filter((x) => x === 'ok').length).toBeGreaterThanOrEqual(1);
    expect(new Set(r.filter((x) => x !== 'ok'))).toEqual(new Set([42911]));
    expect(c.connection.state).toBe('connected');
    expect(await svc.metricsText()).toMatch(/realtime_nacks_total\{code="42911"\} [1-9]/);
  });

  it('NACKs publishers together over a channel rate with 42913', async () => {
    const [a, b] = await Promise.all([user('a'), user('b')]);
    const r = (await Promise.all([publishMany(a, 'busy', 9), publishMany(b, 'busy', 9)])).flat();
    expect(r).toContain(42913);
    expect(r.filter((x) => x === 'ok').length).toBeLessThanOrEqual(15);
  });

  it('closes a connection far over its rate with 42921', async () => {
    const c = await user('runaway');
    const failed = new Promise<Ably.ErrorInfo | undefined>((resolve) => c.connection.once('failed', (s) => resolve(s.reason)));
    // Far beyond 5x the rate within one second, even should a loaded service's second boundary split the burst.
    void publishMany(c, 'flood-b', 300);
    expect((await failed)?.code).toBe(42921);
  });

  it('refuses a channel beyond the per-connection channel count with 90010', async () => {
    const c = await user('hog');
    await Promise.all(['h1', 'h2', 'h3'].map((n) => c.channels.get(n).attach()));
    await expect(c.channels.get('h4').attach()).rejects.toMatchObject({ code: 90010, statusCode: 400 });
    await c.channels.get('h1').detach();
    await c.channels.get('h5').attach();
  });

  it('NACKs a presence enter beyond the member count of a channel with 91003', async () => {
    const [a, b, c] = await Promise.all([user('p1'), user('p2'), user('p3')]);
    await a.channels.get('room-p').presence.enter('x');
    await b.channels.get('room-p').presence.enter('y');
    await expect(c.channels.get('room-p').presence.enter('z')).rejects.toMatchObject({ code: 91003 });
    await a.channels.get('room-p').presence.leave();
    await c.channels.get('room-p').presence.enter('z');
  });

  it('exempts key-authenticated server parts by default', async () => {
    const server = await clients.connected();
    expect((await publishMany(server, 'server-side', 30)).every((x) => x === 'ok')).toBe(true);
  });

  it('closes a connection over the protocol-message rate with 42924', async () => {
    const hb = JSON.stringify({ action: 0 });
    const r = await rawSocket(strict, Array.from({ length: 60 }, () => hb));
    expect(r.errors).toEqual([42924]);
    expect(await strict.metricsText()).toMatch(/realtime_errors_total\{code="42924"\} 1/);
  });

  it('drops messages to a consumer whose socket stops reading (42915), then tells it of the gap (80020)', async () => {
    const own = await startTestService({ limits: { maxQueuedBytes: 256 << 10 }, maxIdleIntervalMs: 1000 });
    try {
      const ws = new WebSocket(`ws://${own.svc.host}:${own.svc.port}/?key=${encodeURIComponent(own.svc.apiKey)}&format=json`);
      const attached: Array<{ error?: { code: number } }> = [];
      let onAttached: () => void = () => {};
      ws.on('message', (d: Buffer) => {
        const f = JSON.parse(d.toString()) as { action: number; error?: { code: number } };
        if (f.action === 4) ws.send(JSON.stringify({ action: 10, channel: 'firehose' }));
        if (f.action === 11) (attached.push(f), onAttached());
      });
      await new Promise<void>((r) => (onAttached = r));
      const sock = (ws as unknown as { _socket: import('node:net').Socket })._socket;
      sock.pause();
      const pub = await own.clients.connected();
      const big = 'x'.repeat(60_000);
      const ch = pub.channels.get('firehose');
      for (let i = 0; i < 8; i++) await Promise.all(Array.from({ length: 25 }, () => ch.publish('m', big)));
      const metrics = await own.svc.metricsText();
      expect(metrics).toMatch(/realtime_errors_total\{code="42915"\} 1/);
      expect(metrics).toMatch(/realtime_outbound_dropped_total [1-9]/);
      const gap = new Promise<void>((r) => (onAttached = r));
      sock.resume();
      await gap;
      expect(attached.at(-1)?.error?.code).toBe(80020);
      ws.terminate();
    } finally {
      own.clients.closeAll();
      await own.svc.stop();
    }
  });

  it('drops deliveries over the outbound rate (42915), then tells the channel of the gap (80020) and delivers again', async () => {
    const own = await startTestService({ limits: { connectionOutboundRate: 20 }, maxIdleIntervalMs: 1000 });
    try {
      const signer = own.clients.rest();
      const reader = await own.clients.connected({
        authCallback: (_p, cb) => void signer.auth.createTokenRequest({ clientId: 'reader' }).then((r) => cb(null, r), (e: Ably.ErrorInfo) => cb(e, null)),
      });
      const ch = reader.channels.get('fan');
      const got: string[] = [];
      await ch.subscribe((m) => void got.push(String(m.data)));
      const loss = new Promise<Ably.ChannelStateChange>((r) => ch.on('update', r));
      const pub = (await own.clients.connected()).channels.get('fan');
      await Promise.all(Array.from({ length: 200 }, (_, i) => pub.publish('m', String(i))));
      const change = await loss;
      expect(change.reason?.code).toBe(80020);
      expect(change.resumed).toBe(false);
      expect(got.length).toBeGreaterThan(0);
      expect(got.length).toBeLessThan(200);
      const metrics = await own.svc.metricsText();
      // One 42915 per gap: a burst spread over two seconds opens two.
      expect(metrics).toMatch(/realtime_errors_total\{code="42915"\} [1-9]/);
      expect(metrics).toMatch(/realtime_outbound_rate_dropped_total [1-9]/);
      const after = new Promise<void>((r) => void ch.subscribe('after', () => r()));
      // A burst that a loaded machine spreads over several rate windows opens a gap in each: an
      // 'after' that falls into a later gap is dropped too, and that gap's notice sends it again.
      ch.on('update', () => void pub.publish('after', 'x').catch(() => undefined));
      await pub.publish('after', 'x');
      await after;
    } finally {
      own.clients.closeAll();
      await own.svc.stop();
    }
  });

  it('refuses a frame over the frame size from its header (close 1009), before buffering it', async () => {
    const r = await rawSocket(svc, [Buffer.alloc(2 << 20, 0x20)]);
    expect(r.code).toBe(1009);
    expect((await clients.connected()).connection.state).toBe('connected');
  });
});
