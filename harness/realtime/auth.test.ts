import { createServer, type Server } from 'node:http';
import type * as Ably from 'ably';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StartedRealtime } from './index.ts';
import { Clients, collector, rejection, startTestService, waitFor } from './testing.ts';

let svc: StartedRealtime;
let clients: Clients;
let keyRest: Ably.Rest;
const limitedKey = { keyName: 'app.connector', secret: 'connectorsecret', capability: { 'chat:*:incoming': ['publish'], 'chat:*': ['subscribe'] } };
const revocableKey = { keyName: 'app.revocable', secret: 'revocablesecret', revocableTokens: true };

beforeAll(async () => {
  ({ svc, clients } = await startTestService({ keys: [{ keyName: 'app.root', secret: 'rootsecret' }, limitedKey, revocableKey] }));
  keyRest = clients.rest();
});
afterAll(async () => {
  clients.closeAll();
  await svc.stop();
});

/** An authCallback that signs TokenRequests locally with the root key, as a token endpoint would. */
function signer(params: Ably.TokenParams, counter?: { n: number }): Ably.ClientOptions['authCallback'] {
  return (_p, cb) => {
    if (counter) counter.n++;
    keyRest.auth.createTokenRequest(params).then((r) => cb(null, r), (e: Ably.ErrorInfo) => cb(e, null));
  };
}

describe('basic auth', () => {
  it('rejects an unknown key and a wrong secret with 40101', async () => {
    for (const key of ['app.nokey:whatever', 'app.root:wrongsecret']) {
      const c = clients.realtime({ key });
      await c.connection.whenState('failed');
      expect(c.connection.errorReason?.code).toBe(40101);
    }
  });

  it('lets a key connection take any clientId', async () => {
    const c = await clients.connected({ clientId: 'dave' });
    expect(c.auth.clientId).toBe('dave');
  });
});

describe('token auth', () => {
  it('connects with a TokenRequest from authCallback; the token sets the clientId', async () => {
    const c = await clients.connected({ authCallback: signer({ clientId: 'erin' }) });
    expect(c.auth.clientId).toBe('erin');
    const sub = await collector(c.channels.get('tokened'));
    await c.channels.get('tokened').publish('hi', 'there');
    expect((await sub.until(1))[0]!.clientId).toBe('erin');
  });

  it('connects with a TokenRequest served from authUrl', async () => {
    let server: Server | undefined;
    try {
      server = createServer((_req, res) => {
        keyRest.auth.createTokenRequest({ clientId: 'frank' }).then((r) => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify(r));
        });
      });
      await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      const c = await clients.connected({ authUrl: `http://127.0.0.1:${port}/token` });
      expect(c.auth.clientId).toBe('frank');
    } finally {
      await new Promise((r) => server?.close(r));
    }
  });

  it('answers bad TokenRequests with Ably error codes', async () => {
    const good = await keyRest.auth.createTokenRequest({ clientId: 'g' });
    const tampered = { ...good, mac: Buffer.alloc(32, 1).toString('base64') };
    const stale = await keyRest.auth.createTokenRequest({ clientId: 'g', timestamp: Date.now() - 3_600_000 });
    const unknown = { ...good, keyName: 'app.missing' };
    const ask = (req: object) => rejection(clients.rest({ authCallback: (_p, cb) => cb(null, req as Ably.TokenRequest) }).auth.requestToken());
    expect((await ask(tampered)).code).toBe(40101);
    expect((await ask(stale)).code).toBe(40104);
    expect((await ask(unknown)).code).toBe(40101);
    const once = await clients.rest({ authCallback: (_p, cb) => cb(null, good) }).auth.requestToken();
    expect(once.token).toBeTruthy();
    expect((await ask(good)).code).toBe(40105);
  });

  it('renews an expired token as Ably does: DISCONNECTED 40142, a new token, the same connection resumed', async () => {
    const calls = { n: 0 };
    const c = await clients.connected({ authCallback: signer({ clientId: 'gina', ttl: 1000 }, calls) });
    const id = c.connection.id;
    const sub = await collector(c.channels.get('renewed'));
    const change = await new Promise<Ably.ConnectionStateChange>((r) => c.connection.once('disconnected', r));
    expect(change.reason?.code).toBe(40142);
    await c.connection.whenState('connected');
    expect(calls.n).toBeGreaterThanOrEqual(2);
    expect(c.connection.id).toBe(id);
    await c.channels.get('renewed').publish('still', 'works');
    await sub.until(1);
  });

  it('authorize() swaps the token on the live connection', async () => {
    const c = await clients.connected({ authCallback: signer({ clientId: 'hal' }) });
    const id = c.connection.id;
    const first = await c.auth.authorize();
    const second = await c.auth.authorize();
    expect(second.token).not.toBe(first.token);
    expect(c.connection.id).toBe(id);
    expect(c.connection.state).toBe('connected');
  });

  it('fails a token that expires with no means of renewal', async () => {
    const td = await keyRest.auth.requestToken({ ttl: 800 });
    const c = clients.realtime({ tokenDetails: td });
    const reasons: number[] = [];
    c.connection.on('disconnected', (s) => void reasons.push(s.reason?.code ?? 0));
    await c.connection.whenState('connected');
    await c.connection.whenState('failed');
    expect(reasons).toEqual([40142]);
    expect(c.connection.errorReason?.code).toBe(40171);
    const late = clients.realtime({ tokenDetails: td });
    const states: number[] = [];
    late.connection.on('disconnected', (s) => void states.push(s.reason?.code ?? 0));
    await late.connection.whenState('failed');
    expect(states).toContain(40142);
  });

  it('rejects a connection whose clientId conflicts with its token (40102)', async () => {
    // A bare token string hides its clientId from the SDK, so the service must catch the conflict.
    const td = await keyRest.auth.requestToken({ clientId: 'judy' });
    const c = clients.realtime({ token: td.token, clientId: 'ivan' });
    await c.connection.whenState('failed');
    expect(c.connection.errorReason?.code).toBe(40102);
    const anonymous = await keyRest.auth.requestToken({});
    const d = clients.realtime({ token: anonymous.token, clientId: 'ivan' });
    await d.connection.whenState('failed');
    expect(d.connection.errorReason?.code).toBe(40102);
  });

  it('rejects a forged token with a token error', async () => {
    const td = await keyRest.auth.requestToken({ clientId: 'judy' });
    const [body] = td.token.split('.');
    const c = clients.realtime({ token: `${body}.${Buffer.alloc(32).toString('base64url')}`, autoConnect: false });
    const reasons: number[] = [];
    c.connection.on('disconnected', (s) => void reasons.push(s.reason?.code ?? 0));
    c.connect();
    await c.connection.whenState('failed');
    // 40143 from the service makes the SDK try to renew; with nothing to renew from it gives up (40171).
    expect(reasons).toEqual([40143]);
    expect(c.connection.errorReason?.code).toBe(40171);
    expect((await rejection(clients.rest({ token: 'garbage' }).channels.get('x').history())).code).toBe(40171);
  });
});

describe('capabilities', () => {
  const userCap: Record<string, Ably.capabilityOp[]> = { 'chat:*:outgoing': ['publish'], 'chat:*:incoming': ['subscribe'], 'chat:*:typing': ['publish', 'subscribe'] };

  it('NACKs a publish outside the capability with 40160', async () => {
    const c = await clients.connected({ authCallback: signer({ clientId: 'kim', capability: userCap }) });
    await c.channels.get('chat:lobby:outgoing').publish('ok', 'fine');
    const err = await rejection(c.channels.get('chat:lobby:incoming').publish('forged', 'row'));
    expect(err.code).toBe(40160);
    expect(err.statusCode).toBe(401);
    expect(c.connection.state).toBe('connected');
  });

  it('refuses to attach a channel the capability does not cover, and grants only allowed modes', async () => {
    const c = await clients.connected({ authCallback: signer({ clientId: 'leo', capability: userCap }) });
    const err = await rejection(c.channels.get('admin').attach());
    expect(err.code).toBe(40160);
    expect(c.channels.get('admin').state).toBe('failed');
    const incoming = c.channels.get('chat:lobby:incoming');
    await incoming.attach();
    expect(incoming.modes).toEqual(expect.arrayContaining(['subscribe']));
    expect(incoming.modes).not.toContain('publish');
  });

  it('gives a token at most what its key allows', async () => {
    const connectorRest = clients.rest({ key: `${limitedKey.keyName}:${limitedKey.secret}` });
    const req = await connectorRest.auth.createTokenRequest({ capability: { '*': ['*'] } });
    const td = await clients.rest({ authCallback: (_p, cb) => cb(null, req) }).auth.requestToken();
    expect(JSON.parse(td.capability)).toEqual({ 'chat:*': ['subscribe'], 'chat:*:incoming': ['publish'] });
    const none = await connectorRest.auth.createTokenRequest({ capability: { other: ['publish'] } });
    expect((await rejection(clients.rest({ authCallback: (_p, cb) => cb(null, none) }).auth.requestToken())).code).toBe(40160);
  });

  it('enforces a limited key used directly', async () => {
    const c = await clients.connected({ key: `${limitedKey.keyName}:${limitedKey.secret}` });
    await c.channels.get('chat:x:incoming').publish('INSERT', 'row');
    expect((await rejection(c.channels.get('chat:x:outgoing').publish('nope', 'x'))).code).toBe(40160);
    const rest = clients.rest({ key: `${limitedKey.keyName}:${limitedKey.secret}` });
    expect((await rejection(rest.channels.get('chat:x:incoming').history())).code).toBe(40160);
  });

  it('rejects messages claiming another clientId (40012)', async () => {
    const c = await clients.connected({ authCallback: signer({ clientId: 'mia' }) });
    const err = await rejection(c.channels.get('impersonation').publish({ name: 'x', data: 'y', clientId: 'mallory' }));
    expect(err.code).toBe(40012);
    const anon = await clients.connected({ authCallback: signer({}) });
    expect((await rejection(anon.channels.get('impersonation').publish({ name: 'x', data: 'y', clientId: 'someone' }))).code).toBe(40012);
  });

  it('lets a wildcard token connect as any clientId', async () => {
    const c = await clients.connected({ clientId: 'nora', authCallback: signer({ clientId: '*' }) });
    expect(c.auth.clientId).toBe('nora');
  });
});

describe('token revocation (POST /keys/:keyName/revokeTokens)', () => {
  const revoker = () => clients.rest({ key: `${revocableKey.keyName}:${revocableKey.secret}` });

  it("disconnects the revoked clientId's connections with 40141 and refuses its tokens, leaving others and newer tokens working", async () => {
    const [gone, kept] = await Promise.all([revoker().auth.requestToken({ clientId: 'rex' }), revoker().auth.requestToken({ clientId: 'kim' })]);
    const rex = await clients.connected({ tokenDetails: gone });
    const kim = await clients.connected({ tokenDetails: kept });
    const disconnected = new Promise<Ably.ConnectionStateChange>((r) => rex.connection.once('disconnected', r));
    const res = await revoker().auth.revokeTokens([{ type: 'clientId', value: 'rex' }, { type: 'bogus', value: 'x' }]);
    expect([res.successCount, res.failureCount]).toEqual([1, 1]);
    const [ok, bad] = res.results as [Ably.TokenRevocationSuccessResult, Ably.TokenRevocationFailureResult];
    expect(ok.target).toBe('clientId:rex');
    expect(ok.appliesAt).toBeGreaterThanOrEqual(ok.issuedBefore);
    expect([bad.target, bad.error.statusCode]).toEqual(['bogus:x', 400]);
    expect((await disconnected).reason?.code).toBe(40141);
    // Raw HTTP: the SDK, unable to renew, would report its own 40171 instead of the service's answer.
    const r = await fetch(`http://${svc.host}:${svc.port}/channels/revoked/messages`, { headers: { authorization: `Bearer ${Buffer.from(gone.token).toString('base64')}` } });
    expect([r.status, r.headers.get('x-ably-errorcode')]).toEqual([401, '40141']);
    await kim.channels.get('still-here').publish('m', 'fine');
    const fresh = await clients.connected({ tokenDetails: await revoker().auth.requestToken({ clientId: 'rex' }) });
    expect(fresh.connection.state).toBe('connected');
  });

  it('delays a revocation by the re-auth margin and keeps the given issuedBefore', async () => {
    const td = await revoker().auth.requestToken({ clientId: 'liv' });
    const issuedBefore = td.issued + 1;
    const before = Date.now();
    const res = await revoker().auth.revokeTokens([{ type: 'clientId', value: 'liv' }], { issuedBefore, allowReauthMargin: true });
    const [r] = res.results as [Ably.TokenRevocationSuccessResult];
    expect(r.issuedBefore).toBe(issuedBefore);
    expect(r.appliesAt).toBeGreaterThanOrEqual(before + 30_000);
    // Not yet applied: the token still works until appliesAt.
    await clients.rest({ tokenDetails: td }).channels.get('margin').history();
  });

  it('answers as Ably when the request cannot revoke: token auth 40162, another key 40133, a key without revocable tokens 40163', async () => {
    const url = (keyName: string) => `http://${svc.host}:${svc.port}/keys/${keyName}/revokeTokens`;
    const body = JSON.stringify({ targets: ['clientId:x'] });
    const basic = (k: { keyName: string; secret: string }) => `Basic ${Buffer.from(`${k.keyName}:${k.secret}`).toString('base64')}`;
    const td = await revoker().auth.requestToken();
    const post = async (keyName: string, authorization: string) => {
      const r = await fetch(url(keyName), { method: 'POST', headers: { authorization, 'content-type': 'application/json' }, body });
      return [r.status, ((await r.json()) as { error: { code: number } }).error.code];
    };
    expect(await post(revocableKey.keyName, `Bearer ${Buffer.from(td.token).toString('base64')}`)).toEqual([401, 40162]);
    expect(await post(revocableKey.keyName, basic(limitedKey))).toEqual([401, 40133]);
    expect(await post(limitedKey.keyName, basic(limitedKey))).toEqual([400, 40163]);
  });
});
