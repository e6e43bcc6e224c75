/** Ably's sandbox provisioning API (`POST /apps`, `DELETE /apps/:id`), checked with the real SDK using the keys it hands out. */
import * as Ably from 'ably';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StartedRealtime } from './index.ts';
import { rejection, startTestService } from './testing.ts';

let svc: StartedRealtime;
let plain: StartedRealtime;
const opened: Ably.Realtime[] = [];

beforeAll(async () => {
  ({ svc } = await startTestService({ sandbox: true }));
  ({ svc: plain } = await startTestService());
});
afterAll(async () => {
  for (const c of opened) c.close();
  await svc.stop();
  await plain.stop();
});

/** A spec of the shape ably-js's suite posts: keys, namespaces with flags, presence fixtures, limits. */
const spec = {
  limits: { presence: { maxMembers: 250 } },
  keys: [{}, { capability: '{ "open:*":["publish","subscribe"], "ro":["subscribe"] }' }, { revocableTokens: true }],
  namespaces: [{ id: 'persisted', persisted: true }, { id: 'mutable', mutableMessages: true }],
  channels: [
    {
      name: 'persisted:fixtures',
      presence: [
        { clientId: 'plain', data: 'a string' },
        { clientId: 'decoded', data: '{"example":{"json":"Object"}}', encoding: 'json' },
      ],
    },
  ],
};

interface AppReply {
  appId: string;
  keys: { keyStr: string; keyName: string; keySecret: string; capability: string }[];
  namespaces: { id: string }[];
  endpoint: string;
  port: number;
  tls: boolean;
}

async function createApp(on: StartedRealtime): Promise<Response> {
  return fetch(`http://${on.host}:${on.port}/apps`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(spec) });
}

describe('sandbox apps', () => {
  it('creates an app from the spec and sends clients to this server with its keys', async () => {
    const res = await createApp(svc);
    expect(res.status).toBe(201);
    const app = (await res.json()) as AppReply;
    expect(app.keys).toHaveLength(3);
    expect(app.namespaces.map((n) => n.id)).toEqual(['persisted', 'mutable']);
    expect({ endpoint: app.endpoint, port: app.port, tls: app.tls }).toEqual({ endpoint: svc.host, port: svc.port, tls: false });
    expect(JSON.parse(app.keys[1]!.capability)).toEqual({ 'open:*': ['publish', 'subscribe'], ro: ['subscribe'] });

    const where = { endpoint: app.endpoint, port: app.port, tls: app.tls, logLevel: 0 };
    const full = new Ably.Rest({ ...where, key: app.keys[0]!.keyStr });
    const members = await full.channels.get('persisted:fixtures').presence.get();
    const byId = Object.fromEntries(members.items.map((m) => [m.clientId, m.data]));
    expect(byId).toEqual({ plain: 'a string', decoded: { example: { json: 'Object' } } });

    const limited = new Ably.Realtime({ ...where, key: app.keys[1]!.keyStr });
    opened.push(limited);
    await limited.channels.get('open:x').publish('ok', 'fine');
    expect((await rejection(limited.channels.get('ro').publish('no', 'x'))).code).toBe(40160);
    expect((await rejection(limited.channels.get('elsewhere').attach())).code).toBe(40160);
  });

  it('deletes an app: its keys stop working', async () => {
    const app = (await (await createApp(svc)).json()) as AppReply;
    const key = app.keys[0]!.keyStr;
    const del = await fetch(`http://${svc.host}:${svc.port}/apps/${app.appId}`, { method: 'DELETE', headers: { authorization: `Basic ${Buffer.from(key).toString('base64')}` } });
    expect(del.status).toBe(204);
    const rest = new Ably.Rest({ endpoint: svc.host, port: svc.port, tls: false, key, logLevel: 0 });
    expect((await rejection(rest.channels.get('x').history())).code).toBe(40101);
  });

  it('refuses a malformed spec naming the field, and is absent unless the service runs as a sandbox', async () => {
    const bad = await fetch(`http://${svc.host}:${svc.port}/apps`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ keys: [] }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toContain('keys');
    expect((await createApp(plain)).status).toBe(404);
  });
});
