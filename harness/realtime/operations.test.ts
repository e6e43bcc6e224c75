import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublishedMessage, StartedRealtime } from './index.ts';
import { Clients, collector, eventually, startTestService } from './testing.ts';

let svc: StartedRealtime;
let clients: Clients;
let base: string;

beforeAll(async () => {
  ({ svc, clients } = await startTestService());
  base = `http://${svc.host}:${svc.port}`;
});
afterAll(async () => {
  clients.closeAll();
  await svc.stop();
});

const rootAuth = () => ({ authorization: `Basic ${Buffer.from(svc.apiKey).toString('base64')}` });
const post = async (path: string) => {
  const res = await fetch(`${base}${path}`, { method: 'POST', headers: rootAuth() });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};
const health = async () => (await (await fetch(`${base}/health`)).json()) as { delivery: { held: number; paused: boolean } };

describe('integration hook', () => {
  it('sees every accepted message on matching channels, in publish order, decoded', async () => {
    const seen: PublishedMessage[] = [];
    const off = svc.onChannelMessage(/^chat:.*:outgoing$/, (m) => seen.push(m));
    const c = await clients.connected({ clientId: 'pat' });
    const out = c.channels.get('chat:lobby:outgoing');
    await out.publish('post', { text: 'one' });
    await c.channels.get('chat:lobby:incoming').publish('INSERT', 'not for the hook');
    await out.publish([{ name: 'post', data: 'two' }, { name: 'post', data: Buffer.from('three') }]);
    await clients.rest().channels.get('chat:other:outgoing').publish('post', 'four');
    expect(seen.map((m) => m.data)).toEqual([{ text: 'one' }, 'two', Buffer.from('three'), 'four']);
    expect(seen[0]).toMatchObject({ channel: 'chat:lobby:outgoing', clientId: 'pat', connectionId: c.connection.id, id: `${c.connection.id}:0:0`, name: 'post' });
    expect(seen[0]!.serial < seen[1]!.serial).toBe(true);
    expect(seen[0]!.encoding).toBeUndefined();
    off();
    await out.publish('post', 'after unsubscribe');
    expect(seen).toHaveLength(4);
  });

  it('keeps publishing when a handler throws', async () => {
    const off = svc.onChannelMessage(/^boom$/, () => {
      throw new Error('handler bug');
    });
    const c = await clients.connected();
    const got = await collector(c.channels.get('boom'));
    await c.channels.get('boom').publish('x', 'y');
    await got.until(1);
    off();
  });
});

describe('admin API', () => {
  it('pauses delivery, holds messages in order, and releases them on resume', async () => {
    const pub = await clients.connected();
    const sub = await clients.connected();
    const got = await collector(sub.channels.get('paused'));
    expect((await post('/admin/pause')).body.paused).toBe(true);
    const pubs = [0, 1, 2].map((i) => pub.channels.get('paused').publish('p', `m${i}`));
    await eventually(async () => (await health()).delivery.held >= 3, 'three frames held by the paused service');
    expect(got.got).toHaveLength(0);
    await post('/admin/resume');
    await Promise.all(pubs);
    expect((await got.until(3)).map((m) => m.data)).toEqual(['m0', 'm1', 'm2']);
  });

  it('adds delay to every delivery', async () => {
    const c = await clients.connected();
    const got = await collector(c.channels.get('delayed'));
    expect((await post('/admin/delay?ms=150')).body.delayMs).toBe(150);
    const t0 = Date.now();
    await c.channels.get('delayed').publish('d', 'slow');
    await got.until(1);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(150);
    await post('/admin/delay?ms=0');
  });

  it('drops connections, which then resume with the same id', async () => {
    const c = await clients.connected({ disconnectedRetryTimeout: 200 });
    const id = c.connection.id;
    const r = await post('/admin/drop?fraction=1');
    expect(r.body.dropped).toBeGreaterThanOrEqual(1);
    await c.connection.whenState('disconnected');
    await c.connection.whenState('connected');
    expect(c.connection.id).toBe(id);
  });

  it('drops the same sockets for the same seed, so a run that drops a fraction can be replayed', async () => {
    // Its own service: the shared one holds other tests' connections, which would take part in the draw.
    const own = await startTestService();
    try {
      const cs = await Promise.all(Array.from({ length: 6 }, () => own.clients.connected({ disconnectedRetryTimeout: 100 })));
      const dropped = async (): Promise<string[]> => {
        const first: string[] = [];
        const three = new Promise<void>((resolve) =>
          cs.forEach((c) => c.connection.once('disconnected', () => first.push(c.connection.id!) === 3 && resolve())),
        );
        const auth = { authorization: `Basic ${Buffer.from(own.svc.apiKey).toString('base64')}` };
        const r = await fetch(`http://${own.svc.host}:${own.svc.port}/admin/drop?fraction=0.5&seed=7`, { method: 'POST', headers: auth });
        expect(((await r.json()) as { dropped: number }).dropped).toBe(3);
        await three;
        await Promise.all(cs.map((c) => c.connection.whenState('connected')));
        return first.sort();
      };
      const once = await dropped();
      expect(await dropped()).toEqual(once);
    } finally {
      own.clients.closeAll();
      await own.svc.stop();
    }
  });

  it('rejects bad admin parameters with 400', async () => {
    expect((await post('/admin/delay?ms=-5')).status).toBe(400);
    expect((await post('/admin/drop?fraction=2')).status).toBe(400);
    expect((await post('/admin/drop?fraction=0.5&seed=x')).status).toBe(400);
    expect((await fetch(`${base}/admin/pause`)).status).toBe(405);
  });

  it('refuses the fault controls without the root key, and sends no CORS headers for them', async () => {
    const origin = { origin: 'https://evil.example' };
    const anon = await fetch(`${base}/admin/delay?ms=600000`, { method: 'POST', headers: origin });
    expect(anon.status).toBe(401);
    expect(((await anon.json()) as { error: { code: number } }).error.code).toBe(40101);
    expect(anon.headers.get('access-control-allow-origin')).toBeNull();
    const otherKey = await fetch(`${base}/admin/pause`, { method: 'POST', headers: { authorization: `Basic ${Buffer.from('app.other:secret').toString('base64')}` } });
    expect(otherKey.status).toBe(401);
    expect((await health()).delivery).toMatchObject({ paused: false, delayMs: 0 });
    const preflight = await fetch(`${base}/admin/pause`, { method: 'OPTIONS', headers: { ...origin, 'access-control-request-method': 'POST' } });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('exposes Prometheus counters from its own registry', async () => {
    const c = await clients.connected();
    await c.channels.get('counted').publish('x', 'y');
    await c.channels.get('counted').attach();
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toMatch(/^realtime_messages_in_total \d+/m);
    expect(Number(/^realtime_messages_in_total (\d+)/m.exec(text)![1])).toBeGreaterThan(0);
    expect(text).toMatch(/^realtime_attaches_total [1-9]/m);
    expect(text).toMatch(/^realtime_connections [1-9]/m);
    expect(text).toMatch(/realtime_connections_opened_total/);
    expect(await svc.metricsText()).toContain('realtime_acks_total');
  });

  it('answers the SDK connectivity checks', async () => {
    const res = await fetch(svc.clientOptions().connectivityCheckUrl);
    expect(await res.text()).toBe('yes');
  });
});

describe('heartbeats', () => {
  it.each([
    ['WebSocket pings (Node clients)', {}],
    ['HEARTBEAT frames (heartbeats=true, as browsers ask)', { transportParams: { heartbeats: 'true' } }],
  ])('keeps an idle connection alive with %s', async (_how, extra) => {
    const { svc: fast, clients: fastClients } = await startTestService({ maxIdleIntervalMs: 200 });
    try {
      // The SDK drops a connection silent for maxIdleInterval + realtimeRequestTimeout (here 400 ms).
      const c = await fastClients.connected({ realtimeRequestTimeout: 200, ...extra });
      const id = c.connection.id;
      const changes: string[] = [];
      c.connection.on((s) => void changes.push(s.current));
      const beats = async () => Number(/^realtime_heartbeats_total (\d+)/m.exec(await fast.metricsText())![1]);
      await eventually(async () => (await beats()) >= 5, 'five heartbeats (three times the idle timeout)');
      expect(changes).toEqual([]);
      expect(c.connection.id).toBe(id);
    } finally {
      fastClients.closeAll();
      await fast.stop();
    }
  });
});
