/** Ably JWTs through the real ably SDK: signed with a key's secret, claims honoured, revocable by revocation key. */
import { createHmac } from 'node:crypto';
import type * as Ably from 'ably';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StartedRealtime } from './index.ts';
import { Clients, collector, rejection, startTestService } from './testing.ts';

let svc: StartedRealtime;
let clients: Clients;

beforeAll(async () => {
  ({ svc, clients } = await startTestService());
});
afterAll(async () => {
  clients.closeAll();
  await svc.stop();
});

interface Claims {
  capability?: Record<string, string[]>;
  clientId?: string;
  revocationKey?: string;
  ttlS?: number;
  keyName?: string;
  secret?: string;
}

/** What a customer's server does with any JWT library, by hand. */
function mintJwt(c: Claims = {}): string {
  const key = svc.keys[0]!;
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const iat = Math.floor(Date.now() / 1000);
  const head = b64({ typ: 'JWT', alg: 'HS256', kid: c.keyName ?? key.keyName });
  const body = b64({
    iat,
    exp: iat + (c.ttlS ?? 3600),
    'x-ably-capability': JSON.stringify(c.capability ?? { '*': ['*'] }),
    ...(c.clientId !== undefined ? { 'x-ably-clientId': c.clientId } : {}),
    ...(c.revocationKey !== undefined ? { 'x-ably-revocation-key': c.revocationKey } : {}),
  });
  const sig = createHmac('sha256', c.secret ?? key.secret).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${sig}`;
}

const jwtClient = (claims: Claims, opts: Ably.ClientOptions = {}) => clients.connected({ authCallback: (_p, cb) => cb(null, mintJwt(claims)), ...opts });

describe('Ably JWTs', () => {
  it('connect with their clientId and capability, over WebSocket and comet', async () => {
    for (const transports of [['web_socket'], ['comet']] as Ably.Transport[][]) {
      const c = await jwtClient({ clientId: 'jwt-user', capability: { 'jwt:*': ['subscribe', 'publish'] } }, { transports });
      expect(c.auth.clientId).toBe('jwt-user');
      const ch = c.channels.get('jwt:room');
      const got = await collector(ch);
      await ch.publish('m', 'hello');
      await got.until(1);
      expect(got.got[0]!.clientId).toBe('jwt-user');
      expect((await rejection(c.channels.get('other').publish('m', 'x'))).code).toBe(40160);
    }
  });

  it('a subscribe-only JWT cannot publish', async () => {
    const c = await jwtClient({ capability: { '*': ['subscribe'] } });
    expect((await rejection(c.channels.get('jwt-ro').publish('m', 'x'))).code).toBe(40160);
  });

  it('an expiring JWT is renewed through the authCallback and the connection resumes', async () => {
    let minted = 0;
    const c = await clients.connected({ authCallback: (_p, cb) => void cb(null, mintJwt({ ttlS: ++minted === 1 ? 2 : 3600 })) });
    const id = c.connection.id;
    const change = await new Promise<Ably.ConnectionStateChange>((r) => c.connection.once('disconnected', r));
    expect(change.reason?.code).toBe(40142);
    await c.connection.whenState('connected');
    expect(minted).toBe(2);
    expect(c.connection.id).toBe(id);
  });

  it('refuses a wrong signature (40144) and an unknown key (40400), as the SDK sends a token over REST', async () => {
    // Raw requests: the SDK would retry a token error through its authCallback and report 40171 without one.
    const call = async (claims: Claims) => {
      const res = await fetch(`http://${svc.host}:${svc.port}/channels/jwt-rest/messages`, { headers: { authorization: `Bearer ${Buffer.from(mintJwt(claims)).toString('base64')}` } });
      return { status: res.status, body: (await res.json()) as { error?: { code: number } } };
    };
    expect(await call({ secret: 'not-the-secret' })).toMatchObject({ status: 401, body: { error: { code: 40144 } } });
    expect(await call({ keyName: 'nope.nope' })).toMatchObject({ status: 404, body: { error: { code: 40400 } } });
    expect((await clients.rest({ authCallback: (_p, cb) => cb(null, mintJwt()) }).channels.get('jwt-rest').history()).items).toEqual([]);
  });

  it('revokeTokens by revocation key disconnects the JWTs carrying it, and only those', async () => {
    const revoked = await jwtClient({ revocationKey: 'rk-1' });
    const kept = await jwtClient({ revocationKey: 'rk-2' });
    const lost = new Promise<Ably.ConnectionStateChange>((r) => revoked.connection.once('disconnected', r));
    const res = await clients.rest().auth.revokeTokens([{ type: 'revocationKey', value: 'rk-1' }]);
    expect(res.successCount).toBe(1);
    expect((await lost).reason?.code).toBe(40141);
    expect(kept.connection.state).toBe('connected');
    await kept.channels.get('jwt-kept').publish('m', 'still here');
  });
});
