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

describe.each([
  ['msgpack', true],
  ['json', false],
])('messaging over %s', (_name, useBinaryProtocol) => {
  it('two clients exchange messages in order, with server ids, timestamps and clientIds', async () => {
    const alice = await clients.connected({ clientId: 'alice', useBinaryProtocol });
    const bob = await clients.connected({ clientId: 'bob', useBinaryProtocol });
    const room = `room-${useBinaryProtocol}`;
    const atBob = await collector(bob.channels.get(room));
    const atAlice = await collector(alice.channels.get(room));
    const before = Date.now();
    for (let i = 0; i < 20; i++) await (i % 2 ? bob : alice).channels.get(room).publish('n', `m${i}`);
    for (const c of [atBob, atAlice]) {
      const got = await c.until(20);
      expect(got.map((m) => m.data)).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
      expect(got.map((m) => m.clientId)).toEqual(Array.from({ length: 20 }, (_, i) => (i % 2 ? 'bob' : 'alice')));
    }
    const first = atBob.got[0]!;
    expect(first.connectionId).toBe(alice.connection.id);
    expect(first.id).toBe(`${alice.connection.id}:0:0`);
    expect(first.timestamp).toBeGreaterThanOrEqual(before);
    expect(first.timestamp).toBeLessThanOrEqual(Date.now());
  });

  it('carries strings, objects, binary and extras, and keeps client-supplied ids', async () => {
    const pub = await clients.connected({ useBinaryProtocol });
    const sub = await clients.connected({ useBinaryProtocol: !useBinaryProtocol });
    const name = `payloads-${useBinaryProtocol}`;
    const c = await collector(sub.channels.get(name));
    const ch = pub.channels.get(name);
    await ch.publish('s', 'text é');
    await ch.publish('o', { a: [1, 2], b: null });
    await ch.publish('b', Buffer.from([0, 255, 7]));
    await ch.publish({ id: 'my-own-id', name: 'x', data: 'y', extras: { headers: { h: 'v' } } });
    await ch.publish([{ name: 'batch', data: 1 }, { name: 'batch', data: 2 }].map((m) => ({ ...m, data: String(m.data) })));
    const got = await c.until(6);
    expect(got.map((m) => m.data)).toEqual(['text é', { a: [1, 2], b: null }, Buffer.from([0, 255, 7]), 'y', '1', '2']);
    expect(got[3]!.id).toBe('my-own-id');
    expect(got[3]!.extras).toEqual({ headers: { h: 'v' } });
    expect(got[4]!.id).toBe(`${pub.connection.id}:4:0`);
    expect(got[5]!.id).toBe(`${pub.connection.id}:4:1`);
  });
});

describe('connection and channels', () => {
  it('sends the connection details the SDK needs', async () => {
    const c = await clients.connected({ clientId: 'carol' });
    expect(c.connection.id).toMatch(/^[A-Za-z0-9]+$/);
    expect(c.connection.key).toBeTruthy();
    expect(c.auth.clientId).toBe('carol');
    const rtt = await c.connection.ping();
    expect(rtt).toBeGreaterThanOrEqual(0);
  });

  it('does not echo messages back when echoMessages is false', async () => {
    const quiet = await clients.connected({ echoMessages: false });
    const other = await clients.connected();
    const own = await collector(quiet.channels.get('echo'));
    const theirs = await collector(other.channels.get('echo'));
    await quiet.channels.get('echo').publish('mine', '1');
    await other.channels.get('echo').publish('yours', '2');
    await theirs.until(2);
    await own.until(1);
    expect(own.got.map((m) => m.name)).toEqual(['yours']);
  });

  it('lets a client publish on a channel it has not attached', async () => {
    const pub = await clients.connected();
    const sub = await clients.connected();
    const c = await collector(sub.channels.get('unattached'));
    await pub.channels.get('unattached').publish('x', 'y');
    await c.until(1);
    expect(pub.channels.get('unattached').state).toBe('initialized');
  });

  it('detaches, stops delivering, and reattaches', async () => {
    const pub = await clients.connected();
    const sub = await clients.connected();
    const ch = sub.channels.get('detach-me');
    const c = await collector(ch);
    await pub.channels.get('detach-me').publish('a', '1');
    await c.until(1);
    await ch.detach();
    expect(ch.state).toBe('detached');
    await pub.channels.get('detach-me').publish('b', '2');
    await ch.attach();
    await pub.channels.get('detach-me').publish('c', '3');
    await c.until(2);
    expect(c.got.map((m) => m.name)).toEqual(['a', 'c']);
  });

  it('grants the modes the client asks for, and only those', async () => {
    const c = await clients.connected();
    const ch = c.channels.get('modes', { modes: ['PUBLISH'] });
    await ch.attach();
    expect(ch.modes).toEqual(['publish']);
    const full = c.channels.get('modes-all');
    await full.attach();
    expect(full.modes).toEqual(expect.arrayContaining(['publish', 'subscribe', 'presence', 'presence_subscribe']));
  });

  it('closes cleanly', async () => {
    const c = await clients.connected();
    c.close();
    await c.connection.whenState('closed');
    expect(c.connection.state).toBe('closed');
  });

  it('delivers to a filtered (derived) channel only the messages its filter accepts', async () => {
    const name = 'filtered';
    const c = await clients.connected();
    const filtered = await collector(c.channels.getDerived(name, { filter: 'name == `"pick"` && (headers.n > `10` || headers.tag == \'+/=\')' }));
    const all = await collector(c.channels.get(name));
    const pub = (await clients.connected()).channels.get(name);
    await pub.publish([
      { name: 'pick', data: 'big', extras: { headers: { n: 26 } } },
      { name: 'pick', data: 'small', extras: { headers: { n: 3 } } },
      { name: 'skip', data: 'wrong name', extras: { headers: { n: 99 } } },
      { name: 'pick', data: 'no headers' },
    ]);
    await pub.publish({ name: 'pick', data: 'tagged', extras: { headers: { tag: '+/=' } } });
    await all.until(5);
    expect((await filtered.until(2)).map((m) => m.data)).toEqual(['big', 'tagged']);
    const err = await rejection(c.channels.getDerived(`${name}-bad`, { filter: 'name ==' }).attach());
    expect(err.code).toBe(40010);
  });

  it('sends deltas (vcdiff) to an attachment that asks for them, the first message whole', async () => {
    const calls: number[] = [];
    const vcdiff = { decode: (delta: Uint8Array, base: Uint8Array) => (calls.push(delta.length), decodeVcdiff(Buffer.from(delta), Buffer.from(base))) };
    const c = await clients.connected({ plugins: { vcdiff } } as Ably.ClientOptions);
    const got = await collector(c.channels.get('deltas', { params: { delta: 'vcdiff' } }));
    const pub = (await clients.connected()).channels.get('deltas');
    const payloads = [{ text: 'hello world', n: 1 }, { text: 'hello world', n: 2 }, 'plain text', Buffer.from('binary payload')];
    for (const p of payloads) await pub.publish('d', p);
    expect((await got.until(4)).map((m) => m.data)).toEqual(payloads);
    expect(calls).toHaveLength(3);
  });

  it('rejects an invalid channel name on attach', async () => {
    const c = await clients.connected();
    const err = await rejection(c.channels.get('[?rewind=bogus]x').attach());
    expect(err.code).toBe(40000);
  });
});

/** Decodes the subset of RFC 3284 the service writes (one window over the source; ADD and mode-0 COPY with explicit sizes). */
function decodeVcdiff(delta: Buffer, source: Buffer): Uint8Array {
  let i = 6; // magic (4), header indicator (1), window indicator VCD_SOURCE (1)
  const num = () => {
    let n = 0;
    for (;;) {
      const b = delta[i++]!;
      n = n * 128 + (b & 0x7f);
      if (b < 0x80) return n;
    }
  };
  num(); // source segment length
  num(); // source segment position
  num(); // delta encoding length
  num(); // target window length
  i++; // delta indicator
  const [dataLen, instLen, addrLen] = [num(), num(), num()];
  const data = delta.subarray(i, i + dataLen);
  const inst = delta.subarray(i + dataLen, i + dataLen + instLen);
  const addr = delta.subarray(i + dataLen + instLen, i + dataLen + instLen + addrLen);
  const out: Buffer[] = [];
  let [d, a] = [0, 0];
  for (i = 0; i < inst.length; ) {
    const code = inst[i++]!;
    const read = (buf: Buffer, at: { i: number }) => {
      let n = 0;
      for (;;) {
        const b = buf[at.i++]!;
        n = n * 128 + (b & 0x7f);
        if (b < 0x80) return n;
      }
    };
    const at = { i };
    const size = read(inst, at);
    i = at.i;
    if (code === 1) out.push(data.subarray(d, (d += size)));
    else {
      const ap = { i: a };
      const from = read(addr, ap);
      a = ap.i;
      out.push(source.subarray(from, from + size));
    }
  }
  return Buffer.concat(out);
}
