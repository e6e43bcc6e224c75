/**
 * TokenRequest signatures and tokens in the local realtime service, against Ably's documented
 * rule: mac = base64(HMAC-SHA256(keySecret, keyName\nttl\ncapability\nclientId\ntimestamp\nnonce\n)),
 * absent fields as empty strings; stale timestamps are refused (40104), nonces are single-use
 * (40105). Requests are signed by the unmodified ably SDK, as a token endpoint would sign them.
 */
import { createHmac, randomBytes } from 'node:crypto';
import * as Ably from 'ably';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalCapability, type Capability } from '../../../harness/realtime/auth/capability.ts';
import { isJwt } from '../../../harness/realtime/auth/jwt.ts';
import { KeyStore } from '../../../harness/realtime/auth/keys.ts';
import { Authenticator } from '../../../harness/realtime/auth/tokens.ts';

const KEY = { keyName: 'app.root', secret: randomBytes(18).toString('base64url'), capability: { '[*]*': ['*'] } };
const NOW = 1_760_000_000_000;
const WINDOW_MS = 10 * 60 * 1000;

type Signed = Record<string, unknown> & { keyName: string; mac: string; nonce: string; timestamp: number };

const referenceMac = (secret: string, r: Record<string, unknown>) =>
  createHmac('sha256', secret)
    .update([r.keyName, r.ttl ?? '', r.capability ?? '', r.clientId ?? '', r.timestamp, r.nonce].map(String).join('\n') + '\n')
    .digest('base64');

const rest = new Ably.Rest({ key: `${KEY.keyName}:${KEY.secret}`, autoConnect: false } as Ably.ClientOptions);

const word = fc.constantFrom('a', 'b', 'chat', 'lobby', 'x-1');
const resource = fc.tuple(fc.constantFrom('', '[queue]', '[meta]'), fc.array(fc.oneof(word, fc.constant('*')), { minLength: 1, maxLength: 3 })).map(([q, s]) => q + s.join(':'));
// As Ably, the service refuses '*' next to other operations (40000), so a valid request has either.
const operations: fc.Arbitrary<string[]> = fc.oneof(fc.constant(['*']).map((o) => [...o]), fc.uniqueArray(fc.constantFrom('publish', 'subscribe', 'presence', 'history'), { minLength: 1, maxLength: 3 }));
const capability: fc.Arbitrary<Capability> = fc.dictionary(resource, operations, { minKeys: 1, maxKeys: 3 });
const params = fc.record(
  {
    // Up to 24 h less the largest change below: a longer ttl is refused (40003), as Ably refuses it.
    ttl: fc.integer({ min: 1000, max: 86_400_000 - 5000 }),
    capability,
    clientId: fc.oneof(fc.string({ minLength: 1, maxLength: 12 }), fc.constant('*')),
    skewMs: fc.integer({ min: -WINDOW_MS + 1, max: WINDOW_MS - 1 }),
  },
  { requiredKeys: ['skewMs'] },
);

async function sign(p: { ttl?: number; capability?: Capability; clientId?: string; skewMs: number }): Promise<Signed> {
  const tp: Ably.TokenParams = { timestamp: NOW + p.skewMs };
  if (p.ttl !== undefined) tp.ttl = p.ttl;
  // The SDK's type lists only known operations; any string array is what it signs.
  if (p.capability !== undefined) tp.capability = JSON.stringify(p.capability);
  if (p.clientId !== undefined) tp.clientId = p.clientId;
  return JSON.parse(JSON.stringify(await rest.auth.createTokenRequest(tp))) as Signed;
}

const withStarOps = (c: Capability): Capability =>
  Object.fromEntries(Object.entries(c).map(([r, ops]) => [r, ops.includes('*') ? ['*'] : ops]));

const auth = () => new Authenticator(new KeyStore([KEY]), () => NOW);
const codeOf = (f: () => unknown): number | undefined => {
  try {
    f();
    return undefined;
  } catch (err) {
    return (err as { code?: number }).code ?? -1;
  }
};

describe('TokenRequest mac and tokens (property)', () => {
  it("the SDK's mac is the documented HMAC, and the service issues the token it describes", async () => {
    await fc.assert(
      fc.asyncProperty(params, async (p) => {
        const req = await sign(p);
        expect(req.mac).toBe(referenceMac(KEY.secret, req));
        const td = auth().requestToken(KEY.keyName, req);
        expect(td.keyName).toBe(KEY.keyName);
        expect(td.expires - td.issued).toBe(p.ttl ?? 60 * 60 * 1000);
        // ["*", "publish"] and ["*"] grant the same; the service keeps the shorter form.
        expect(td.capability).toBe(canonicalCapability(withStarOps(p.capability ?? KEY.capability)));
        const id = auth().token(td.token);
        expect(id.capability).toEqual(JSON.parse(td.capability));
        if (p.clientId === '*') expect([id.wildcard, id.clientId]).toEqual([true, undefined]);
        else expect([id.wildcard, id.clientId]).toEqual([false, p.clientId]);
      }),
      { numRuns: 300 },
    );
  });

  it('changing any signed field without re-signing is refused (40101); re-signed by the documented rule it is accepted', async () => {
    const field = fc.constantFrom('ttl', 'capability', 'clientId', 'timestamp', 'nonce');
    await fc.assert(
      fc.asyncProperty(params, field, fc.integer({ min: 1, max: 5000 }), async (p, f, n) => {
        const req = await sign(p);
        const changed: Signed = { ...req };
        if (f === 'ttl') changed.ttl = Number(req.ttl ?? 3_600_000) + n;
        else if (f === 'capability') changed.capability = JSON.stringify({ [`other${n}`]: ['publish'] });
        else if (f === 'clientId') changed.clientId = `${String(req.clientId ?? '')}~${n}`;
        else if (f === 'timestamp') changed.timestamp = req.timestamp + (req.timestamp + n - NOW < WINDOW_MS ? n : -n);
        else changed.nonce = `${req.nonce}${n}`;
        expect(codeOf(() => auth().requestToken(KEY.keyName, changed)), `changed ${f}`).toBe(40101);
        changed.mac = referenceMac(KEY.secret, changed);
        expect(codeOf(() => auth().requestToken(KEY.keyName, changed)), `re-signed ${f}`).toBeUndefined();
      }),
      { numRuns: 300 },
    );
  });

  it('a nonce is accepted once; a timestamp outside the window is refused even when signed', async () => {
    await fc.assert(
      fc.asyncProperty(params, fc.integer({ min: 1, max: 10 * WINDOW_MS }), fc.boolean(), async (p, beyond, late) => {
        const a = auth();
        const req = await sign(p);
        expect(codeOf(() => a.requestToken(KEY.keyName, req))).toBeUndefined();
        expect(codeOf(() => a.requestToken(KEY.keyName, req))).toBe(40105);
        const stale = await sign({ ...p, skewMs: (late ? 1 : -1) * (WINDOW_MS + beyond) });
        expect(codeOf(() => a.requestToken(KEY.keyName, stale))).toBe(40104);
      }),
      { numRuns: 200 },
    );
  });

  it('a token changed in any one character is refused, or still means exactly the same token', async () => {
    const a = auth();
    const td = a.requestToken(KEY.keyName, await sign({ clientId: 'alice', capability: { 'chat:*:outgoing': ['publish'] }, skewMs: 0 }));
    const original = a.token(td.token);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.';
    fc.assert(
      fc.property(fc.nat({ max: td.token.length - 1 }), fc.constantFrom(...alphabet), (i, ch) => {
        fc.pre(td.token[i] !== ch);
        const forged = td.token.slice(0, i) + ch + td.token.slice(i + 1);
        let id: ReturnType<Authenticator['token']> | undefined;
        try {
          id = a.token(forged);
        } catch (err) {
          // A change that gives it a JWT's three parts is read as a JWT, and refused as one (40144, Ably's invalid_jwt).
          expect([40101, 40143, ...(isJwt(forged) ? [40144] : [])]).toContain((err as { code?: number }).code);
          return;
        }
        // base64 leaves a few low bits of the last character unused: same bytes, same token.
        expect(id).toEqual(original);
      }),
      { numRuns: 1000 },
    );
  });
});
