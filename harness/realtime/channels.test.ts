import type * as Ably from 'ably';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StartedRealtime } from './index.ts';
import { Clients, collector, rejection, startTestService, waitFor } from './testing.ts';

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

const ids = (ms: Ably.PresenceMessage[]) => ms.map((m) => m.clientId).sort();

describe('presence', () => {
  it('enter, update and leave reach subscribers; a late attacher syncs the members', async () => {
    const alice = await clients.connected({ clientId: 'alice' });
    const bob = await clients.connected({ clientId: 'bob' });
    await alice.channels.get('lobby').presence.enter({ status: 'online' });
    await bob.channels.get('lobby').presence.enter('hi');

    const watcher = await clients.connected();
    const wp = watcher.channels.get('lobby').presence;
    const members = await wp.get();
    expect(ids(members)).toEqual(['alice', 'bob']);
    expect(members.find((m) => m.clientId === 'alice')!.data).toEqual({ status: 'online' });

    const events: string[] = [];
    await wp.subscribe((m) => void events.push(`${m.action}:${m.clientId}:${JSON.stringify(m.data)}`));
    await alice.channels.get('lobby').presence.update({ status: 'away' });
    await bob.channels.get('lobby').presence.leave();
    await waitFor(() => events.length >= 2, 'update and leave events');
    expect(events).toEqual(['update:alice:{"status":"away"}', 'leave:bob:"hi"']);
    expect(ids(await wp.get())).toEqual(['alice']);
    expect(ids(await alice.channels.get('lobby').presence.get())).toEqual(['alice']);
  });

  it('removes the members of a closed connection at once', async () => {
    const carol = await clients.connected({ clientId: 'carol' });
    await carol.channels.get('closing').presence.enter();
    const watcher = await clients.connected();
    const wp = watcher.channels.get('closing').presence;
    expect(ids(await wp.get())).toEqual(['carol']);
    const left = new Promise<Ably.PresenceMessage>((r) => void wp.subscribe('leave', r));
    carol.close();
    expect((await left).clientId).toBe('carol');
  });

  it('lets a key connection enter on behalf of others, and syncs many members', async () => {
    const server = await clients.connected();
    const p = server.channels.get('crowd').presence;
    await Promise.all(Array.from({ length: 60 }, (_, i) => p.enterClient(`user-${i}`, { i })));
    const watcher = await clients.connected();
    expect((await watcher.channels.get('crowd').presence.get()).length).toBe(60);
    const rest = await keyRest.channels.get('crowd').presence.get({ clientId: 'user-7' });
    expect(rest.items.map((m) => m.data)).toEqual([{ i: 7 }]);
  });

  it('refuses presence without the presence capability (40160)', async () => {
    const c = await clients.connected({
      authCallback: (_p, cb) => void keyRest.auth.createTokenRequest({ clientId: 'dan', capability: { '*': ['subscribe', 'publish'] } }).then((r) => cb(null, r)),
    });
    const ch = c.channels.get('no-presence');
    const err = await rejection(ch.presence.enter());
    expect(err.code).toBe(40160);
  });

  it('keeps members through a resumed connection without spurious events', async () => {
    const erin = await clients.connected({ clientId: 'erin' });
    await erin.channels.get('steady').presence.enter('x');
    const watcher = await clients.connected({ clientId: 'watcher' });
    const wp = watcher.channels.get('steady').presence;
    await wp.enter();
    const events: string[] = [];
    await wp.subscribe((m) => void events.push(`${m.action}:${m.clientId}`));
    svc.admin.dropConnections(1);
    await watcher.connection.whenState('disconnected');
    await watcher.connection.whenState('connected');
    await watcher.channels.get('steady').whenState('attached');
    await erin.channels.get('steady').presence.update('y');
    await waitFor(() => events.includes('update:erin'), 'the update after the resume');
    expect(ids(await wp.get())).toEqual(['erin', 'watcher']);
    expect(events.filter((e) => e.startsWith('leave'))).toEqual([]);
  });
});

describe('rewind', () => {
  it('delivers the last messages on attach with [?rewind=N] and params {rewind}', async () => {
    const pub = await clients.connected();
    for (let i = 0; i < 5; i++) await pub.channels.get('incoming-chat').publish('m', `r${i}`);
    const late = await clients.connected();
    const byName = await collector(late.channels.get('[?rewind=3]incoming-chat'));
    expect((await byName.until(3)).map((m) => m.data)).toEqual(['r2', 'r3', 'r4']);
    const byTime = await collector(late.channels.get('incoming-chat', { params: { rewind: '2m' } }));
    expect((await byTime.until(5)).map((m) => m.data)).toEqual(['r0', 'r1', 'r2', 'r3', 'r4']);
    expect(late.channels.get('incoming-chat').params).toMatchObject({ rewind: '2m' });
    await pub.channels.get('incoming-chat').publish('m', 'live');
    await byName.until(4);
    await byTime.until(6);
    expect(byName.got.at(-1)!.data).toBe('live');
    expect(byName.got.at(-1)!.id).toBe(byTime.got.at(-1)!.id);
  });
});

describe('idempotent realtime publishing and serials', () => {
  it('drops a message whose client-supplied id was already published (realtime or REST)', async () => {
    const pub = await clients.connected();
    const sub = await clients.connected();
    const got = await collector(sub.channels.get('idem'));
    await pub.channels.get('idem').publish({ id: 'row-1:0', name: 'INSERT', data: 'v1' });
    await pub.channels.get('idem').publish({ id: 'row-1:0', name: 'INSERT', data: 'v1' });
    await keyRest.channels.get('idem').publish({ id: 'row-1:0', name: 'INSERT', data: 'v1' });
    await pub.channels.get('idem').publish({ id: 'row-2:0', name: 'INSERT', data: 'v2' });
    await got.until(2);
    const history = await keyRest.channels.get('idem').history();
    expect(history.items.map((m) => m.id)).toEqual(['row-2:0', 'row-1:0']);
    expect(got.got.map((m) => m.id)).toEqual(['row-1:0', 'row-2:0']);
  });

  it('gives messages increasing serials', async () => {
    const c = await clients.connected();
    const got = await collector(c.channels.get('serials'));
    for (let i = 0; i < 12; i++) await c.channels.get('serials').publish('s', String(i));
    const serials = (await got.until(12)).map((m) => m.serial!);
    expect([...serials].sort()).toEqual(serials);
    expect(new Set(serials).size).toBe(12);
  });
});
