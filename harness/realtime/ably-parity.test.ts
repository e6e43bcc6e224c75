/**
 * Behaviours where ably-js's own test suite showed the service answering differently from Ably:
 * each is checked here through the real SDK (raw frames only for a flag the SDK never sets).
 */
import type * as Ably from 'ably';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { StartedRealtime } from './index.ts';
import { Clients, collector, rejection, startTestService } from './testing.ts';

let svc: StartedRealtime;
let clients: Clients;
let keyRest: Ably.Rest;

beforeAll(async () => {
  ({ svc, clients } = await startTestService());
  keyRest = clients.rest();
});
afterAll(async () => {
  clients.closeAll();
  await svc.stop();
});

/** Resolves with the token a TokenRequest for `params` buys, signed with the root key. */
const tokenFor = (params: Ably.TokenParams) => keyRest.auth.requestToken(params);

describe('channel names', () => {
  it.each([':hell', '::', ''])('refuses %j with a channel error 40010 and keeps the connection', async (name) => {
    const c = await clients.connected();
    const ch = c.channels.get(name);
    const err = await rejection(ch.attach());
    expect(err.code).toBe(40010);
    expect(ch.errorReason?.code).toBe(40010);
    // A publish without attaching reaches the service, which NACKs it (a failed channel would refuse it in the SDK).
    const publisher = await clients.connected();
    expect((await rejection(publisher.channels.get(name).publish('x', 'y'))).code).toBe(40010);
    // The connection is still usable: a good channel round-trips a message.
    const ok = c.channels.get(`after-${name.length}`);
    const got = await collector(ok);
    await ok.publish('still', 'here');
    await got.until(1);
    expect(c.connection.state).toBe('connected');
  });
});

describe('channel modes', () => {
  it('grants the defaults Ably grants, including ANNOTATION_PUBLISH', async () => {
    const c = await clients.connected();
    const ch = c.channels.get('default-modes');
    await ch.attach();
    expect([...ch.modes].sort()).toEqual(['annotation_publish', 'presence', 'presence_subscribe', 'publish', 'subscribe']);
  });

  it('honours the modes param and enforces it: no publish (40165), no presence, no presence events', async () => {
    const c = await clients.connected({ clientId: 'moded' });
    const ch = c.channels.get('param-modes', { params: { modes: 'subscribe', delta: 'vcdiff', nonexistent: 'x' } });
    await ch.attach();
    expect(ch.modes).toEqual(['subscribe']);
    expect(ch.params).toEqual({ modes: 'subscribe', delta: 'vcdiff' });
    const other = await clients.connected({ clientId: 'other' });
    const got = await collector(ch);
    const presenceSeen: string[] = [];
    await ch.presence.subscribe((m) => void presenceSeen.push(m.clientId ?? ''));
    expect((await rejection(ch.publish('x', 'y'))).code).toBe(40165);
    expect((await rejection(ch.presence.enter())).code).toBe(40165);
    // Presence events are not sent to it; a message published after them arrives, so they had their chance.
    const otherCh = other.channels.get('param-modes');
    await otherCh.presence.enter();
    await otherCh.publish('after-presence', 'a');
    await got.until(1);
    expect(got.got.map((m) => m.name)).toEqual(['after-presence']);
    expect(presenceSeen).toEqual([]);
  });

  it('enforces modes requested as flags: publish-only cannot enter presence; a channel without them can', async () => {
    const c = await clients.connected({ clientId: 'flags' });
    const pubOnly = c.channels.get('flag-modes', { modes: ['PUBLISH'] });
    await pubOnly.attach();
    expect(pubOnly.modes).toEqual(['publish']);
    await pubOnly.publish('allowed', 'a');
    expect((await rejection(pubOnly.presence.enter())).code).toBe(40165);
    // Publishing without attaching is still allowed, as at Ably.
    await c.channels.get('never-attached').publish('fine', 'a');
  });
});

describe('token expiry and re-auth', () => {
  it('sends DISCONNECTED 40142 (401) at expiry, not a renewal request before it', async () => {
    const td = await tokenFor({ ttl: 1500 });
    const c = clients.realtime({ tokenDetails: td });
    await c.connection.whenState('connected');
    const change = await new Promise<Ably.ConnectionStateChange>((r) => c.connection.once('disconnected', r));
    expect(Date.now()).toBeGreaterThanOrEqual(td.expires);
    expect(change.reason?.code).toBe(40142);
    expect(change.reason?.statusCode).toBe(401);
    await c.connection.whenState('failed');
    expect(c.connection.errorReason?.code).toBe(40171);
  });

  it('fails a channel whose capability the new token drops; the connection and other channels stay', async () => {
    const first = await tokenFor({ clientId: 're', capability: { channel: ['*'], another: ['*'] } });
    const tokens = [first];
    const c = await clients.connected({ authCallback: (_p, cb) => cb(null, tokens.at(-1)!) });
    const id = c.connection.id;
    const ch = c.channels.get('channel');
    const another = c.channels.get('another');
    await Promise.all([ch.attach(), another.attach()]);
    tokens.push(await tokenFor({ clientId: 're', capability: { another: ['*'] } }));
    const failed = new Promise<Ably.ChannelStateChange>((r) => ch.once('failed', r));
    await c.auth.authorize();
    expect((await failed).reason?.code).toBe(40160);
    expect((await rejection(ch.attach())).code).toBe(40160);
    expect(another.state).toBe('attached');
    expect(c.connection.id).toBe(id);
  });

  it('lets a re-auth that adds publish take effect on the attached channel', async () => {
    const tokens = [await tokenFor({ clientId: 'up', capability: { upgrade: ['subscribe'] } })];
    const c = await clients.connected({ authCallback: (_p, cb) => cb(null, tokens.at(-1)!) });
    const ch = c.channels.get('upgrade');
    await ch.attach();
    expect((await rejection(ch.publish('x', 'a'))).code).toBe(40160);
    tokens.push(await tokenFor({ clientId: 'up', capability: { upgrade: ['subscribe', 'publish'] } }));
    await c.auth.authorize();
    await ch.publish('x', 'a');
    expect(ch.state).toBe('attached');
  });
});

describe('wildcard tokens', () => {
  it("reports clientId '*' for a wildcard token used without a clientId, as the SDK then expects", async () => {
    const c = clients.realtime({ key: svc.apiKey, useTokenAuth: true, defaultTokenParams: { clientId: '*', ttl: 123456 } });
    await c.connection.whenState('connected');
    expect(c.auth.clientId).toBe('*');
    const td = await tokenFor({ clientId: '*', ttl: 123456 });
    expect(td.clientId).toBe('*');
    expect(td.expires - td.issued).toBe(123456);
    await c.channels.get('wild').publish('anyone', 'x');
  });
});

describe('connection recovery', () => {
  it('answers a recovery key it never issued with 80018 on a new connection', async () => {
    const recover = JSON.stringify({ connectionKey: '_____!not_ours_fake-key____', msgSerial: 3, channelSerials: {} });
    const c = clients.realtime({ recover });
    const change = await new Promise<Ably.ConnectionStateChange>((r) => c.connection.once('connected', r));
    expect(change.reason?.code).toBe(80018);
    expect(c.connection.key).not.toContain('not_ours');
  });

  it('gives a recovered connection a new key, so the client it came from cannot take it back', async () => {
    const first = await clients.connected();
    const id = first.connection.id;
    const oldKey = first.connection.key;
    await first.channels.get('recover-me').attach();
    const recover = first.connection.createRecoveryKey()!;
    const lostFirst = new Promise<Ably.ConnectionStateChange>((r) => first.connection.once('disconnected', r));
    const second = await clients.connected({ recover });
    expect(second.connection.id).toBe(id);
    expect(second.connection.key).not.toBe(oldKey);
    // The first client loses its socket, tries its old key and is given a connection of its own.
    await lostFirst;
    const back = await new Promise<Ably.ConnectionStateChange>((r) => first.connection.once('connected', r));
    expect(back.reason?.code).toBe(80008);
    expect(first.connection.id).not.toBe(id);
    const got = await collector(second.channels.get('recover-me'));
    await keyRest.channels.get('recover-me').publish('after', 'x');
    await got.until(1);
    expect(second.connection.id).toBe(id);
    expect(second.connection.state).toBe('connected');
  });

  it('does not serve a rewind again on an ATTACH_RESUME attach', async () => {
    const name = 'rewind-resume';
    await keyRest.channels.get(name).publish('old', 'a');
    const ws = new WebSocket(`ws://${svc.host}:${svc.port}/?key=${encodeURIComponent(svc.apiKey)}&format=json`);
    const names: string[] = [];
    let onAttached!: () => void;
    let onMessage!: () => void;
    const attached = new Promise<void>((r) => (onAttached = r));
    const firstMessage = new Promise<void>((r) => (onMessage = r));
    ws.on('message', (data: Buffer) => {
      const f = JSON.parse(data.toString()) as { action: number; messages?: { name?: string }[] };
      if (f.action === 4) ws.send(JSON.stringify({ action: 10, channel: name, flags: 1 << 5, params: { rewind: '1' } }));
      if (f.action === 11) onAttached();
      for (const m of f.messages ?? []) names.push(m.name ?? '');
      if (f.messages?.length) onMessage();
    });
    await attached;
    await keyRest.channels.get(name).publish('new', 'b');
    await firstMessage;
    ws.close();
    expect(names).toEqual(['new']);
  });
});

describe('presence history', () => {
  it('lists enter, update and leave events, newest first, over REST and from a realtime channel', async () => {
    const c = await clients.connected({ clientId: 'historian' });
    const p = c.channels.get('presence-history').presence;
    await p.enter('in');
    await p.update('busy');
    await p.leave();
    const page = await keyRest.channels.get('presence-history').presence.history();
    expect(page.items.map((m) => `${m.action}:${m.clientId}:${String(m.data)}`)).toEqual(['leave:historian:busy', 'update:historian:busy', 'enter:historian:in']);
    const forwards = await c.channels.get('presence-history').presence.history({ direction: 'forwards', limit: 2 });
    expect(forwards.items.map((m) => m.action)).toEqual(['enter', 'update']);
  });
});

describe('REST validation', () => {
  it('rejects a ttl beyond the maximum and capabilities with unknown or mixed operations (400)', async () => {
    const tooLong = await rejection(keyRest.auth.requestToken({ ttl: 365 * 24 * 3600 * 1000 }));
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.code).toBe(40003);
    for (const capability of [{ channel0: ['publish_'] }, { channel0: ['*', 'publish'] }]) {
      const err = await rejection(keyRest.auth.requestToken({ capability: capability as Record<string, Ably.capabilityOp[]> }));
      expect(err.statusCode).toBe(400);
      expect(err.code).toBe(40000);
    }
  });

  it('answers GET on requestToken with 404 40400', async () => {
    const res = await fetch(`http://${svc.host}:${svc.port}/keys/${encodeURIComponent(svc.apiKey.split(':')[0]!)}/requestToken`, {
      headers: { accept: 'application/json' },
    });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: number } }).error.code).toBe(40400);
  });
});
