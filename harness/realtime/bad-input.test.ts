/** Hand-made frames and requests (only here): the service answers with Ably errors and stays up. */
import { decode, encode } from '@msgpack/msgpack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { StartedRealtime } from './index.ts';
import { Clients, collector, startTestService } from './testing.ts';

let svc: StartedRealtime;
let clients: Clients;
let bystander: Awaited<ReturnType<typeof collector>>;

beforeAll(async () => {
  ({ svc, clients } = await startTestService({ maxMessageSize: 65536 }));
  const c = await clients.connected();
  bystander = await collector(c.channels.get('bystander'));
});
afterAll(async () => {
  clients.closeAll();
  await svc.stop();
});

type Frame = { action: number; error?: { code: number; statusCode: number; message: string }; [k: string]: unknown };

/** Opens a raw socket, sends `frames` as soon as it opens, and returns what came back until the service closed it. */
async function raw(query: string, frames: Array<string | Buffer>, opts: { closeAfterMs?: number } = {}): Promise<{ frames: Frame[]; code: number }> {
  const ws = new WebSocket(`ws://${svc.host}:${svc.port}/?${query}`);
  const got: Frame[] = [];
  ws.on('message', (data: Buffer, isBinary: boolean) => got.push((isBinary ? decode(data) : JSON.parse(data.toString())) as Frame));
  ws.on('open', () => {
    for (const f of frames) ws.send(f, { binary: Buffer.isBuffer(f) });
  });
  let timer: NodeJS.Timeout | undefined;
  if (opts.closeAfterMs) timer = setTimeout(() => ws.close(), opts.closeAfterMs);
  const code = await new Promise<number>((resolve, reject) => {
    ws.on('close', (c: number) => resolve(c));
    ws.on('error', reject);
  });
  clearTimeout(timer);
  return { frames: got, code };
}

const key = () => `key=${encodeURIComponent(svc.apiKey)}`;
const errorOf = (r: { frames: Frame[] }) => r.frames.find((f) => f.action === 9)?.error;

describe('bad frames on the realtime socket', () => {
  it.each([
    ['malformed JSON', `${'format=json'}`, ['{"action": 10, "channel": ']],
    ['invalid MessagePack', 'format=msgpack', [Buffer.from([0xc1, 0xc1, 0xc1])]],
    ['a JSON array', 'format=json', ['[1,2,3]']],
    ['an action of the wrong type', 'format=json', ['{"action":"attach"}']],
    ['messages of the wrong type', 'format=json', ['{"action":15,"channel":"x","msgSerial":0,"messages":"nope"}']],
    ['an unknown action', 'format=json', ['{"action":99}']],
    ['a server-only action', 'format=msgpack', [Buffer.from(encode({ action: 4, connectionId: 'spoof' }))]],
    ['a MESSAGE without msgSerial', 'format=json', ['{"action":15,"channel":"x","messages":[{"data":"y"}]}']],
    ['an ATTACH without channel', 'format=json', ['{"action":10}']],
  ])('%s: ERROR 40000, then a clean close', async (_what, query, frames) => {
    const r = await raw(`${key()}&${query}`, frames as Array<string | Buffer>);
    expect(r.frames[0]!.action).toBe(4);
    expect(errorOf(r)).toMatchObject({ code: 40000, statusCode: 400 });
    expect(r.code).toBe(1000);
  });

  it('a huge frame: refused from its header (close 1009, message too big) before it is buffered', async () => {
    const r = await raw(`${key()}&format=json`, [JSON.stringify({ action: 15, channel: 'x', msgSerial: 0, messages: [{ data: 'x'.repeat(2 << 20) }] })]);
    expect(r.code).toBe(1009);
  });

  it('frames before CONNECTED without credentials: ERROR 40101 and close; with credentials they are served in order', async () => {
    const refused = await raw('format=json', ['{"action":10,"channel":"x"}', '{"action":15,"channel":"x","msgSerial":0,"messages":[{"data":"y"}]}']);
    expect(refused.frames.map((f) => f.action)).toEqual([9]);
    expect(errorOf(refused)).toMatchObject({ code: 40101, statusCode: 401 });
    expect(refused.code).toBe(1000);
    const eager = await raw(`${key()}&format=json`, ['{"action":10,"channel":"eager"}', '{"action":15,"channel":"eager","msgSerial":0,"messages":[{"data":"y"}]}'], { closeAfterMs: 300 });
    expect(eager.frames.map((f) => f.action)).toEqual([4, 11, 15, 1]);
  });

  it('bad connection parameters and credentials are refused with Ably codes', async () => {
    expect(errorOf(await raw(`${key()}&format=xml`, []))).toMatchObject({ code: 40000 });
    expect(errorOf(await raw('key=nodot&format=json', []))).toMatchObject({ code: 40101 });
    expect(errorOf(await raw('access_token=not-a-token&format=json', []))).toMatchObject({ code: 40143 });
    expect(errorOf(await raw(`${key()}&format=json&clientId=*`, []))).toMatchObject({ code: 40012 });
  });

  it('bad messages are NACKed and the connection stays', async () => {
    const r = await raw(`${key()}&format=json`, [
      '{"action":15,"channel":"x","msgSerial":0,"messages":[{"data":12}]}',
      JSON.stringify({ action: 15, channel: 'x', msgSerial: 1, messages: [{ data: 'x'.repeat(70_000) }] }),
      '{"action":15,"channel":"\\u0001bad","msgSerial":2,"messages":[{"data":"y"}]}',
      '{"action":15,"channel":"x","msgSerial":3,"messages":[]}',
      '{"action":14,"channel":"x","msgSerial":4,"presence":[{"action":2}]}',
      '{"action":0,"id":"ping-1"}',
    ], { closeAfterMs: 300 });
    const nacks = r.frames.filter((f) => f.action === 2).map((f) => [f.msgSerial, f.error!.code]);
    expect(nacks).toEqual([[0, 40013], [1, 40009], [2, 40010], [3, 40000], [4, 91000]]);
    expect(r.frames.at(-1)).toEqual({ action: 0, id: 'ping-1' });
  });

  it('a refused message sent again under its msgSerial (a resend after a resume whose NACK was lost) is refused again', async () => {
    const r = await raw(`${key()}&format=json`, [
      '{"action":15,"channel":"x","msgSerial":0,"messages":[{"data":12}]}',
      '{"action":15,"channel":"x","msgSerial":1,"messages":[{"data":"y"}]}',
      '{"action":15,"channel":"x","msgSerial":0,"messages":[{"data":12}]}',
      '{"action":15,"channel":"x","msgSerial":1,"messages":[{"data":"y"}]}',
      '{"action":0,"id":"ping-2"}',
    ], { closeAfterMs: 300 });
    const answers = r.frames.filter((f) => f.action === 1 || f.action === 2).map((f) => [f.action === 1 ? 'ack' : 'nack', f.msgSerial, f.error?.code]);
    expect(answers).toEqual([['nack', 0, 40013], ['ack', 1, undefined], ['nack', 0, 40013], ['ack', 1, undefined]]);
  });

  it('refuses a WebSocket upgrade on an unknown path', async () => {
    const ws = new WebSocket(`ws://${svc.host}:${svc.port}/nope?${key()}`);
    const status = await new Promise<number>((resolve) => ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
    expect(status).toBe(404);
  });
});

describe('bad REST requests', () => {
  const auth = () => ({ authorization: `Basic ${Buffer.from(svc.apiKey).toString('base64')}` });
  const req = async (method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}) => {
    const res = await fetch(`http://${svc.host}:${svc.port}${path}`, { method, headers: { ...auth(), ...headers }, ...(body !== undefined ? { body } : {}) });
    const text = await res.text();
    return { status: res.status, code: Number(res.headers.get('x-ably-errorcode')), body: text ? (JSON.parse(text) as { error?: { code: number } }) : undefined };
  };

  it.each([
    ['GET', '/channels/%E0%A4%A/messages', undefined, 400, 40000],
    ['GET', '/channels//messages', undefined, 400, 40010],
    ['GET', '/channels/%01x/messages', undefined, 400, 40010],
    ['GET', '/channels/x/messages/extra', undefined, 404, 40400],
    ['GET', '/%00%ff/..%2f..%2fetc', undefined, 404, 40400],
    ['POST', '/time', undefined, 405, 40500],
    ['GET', '/channels/x/messages?limit=5000', undefined, 400, 40000],
    ['GET', '/channels/x/messages?direction=sideways', undefined, 400, 40000],
    ['POST', '/channels/x/messages', '{"data": ', 400, 40000],
    ['POST', '/channels/x/messages', '[]', 400, 40000],
    ['POST', '/channels/x/messages', '{"data": 5}', 400, 40013],
    ['POST', '/channels/x/messages', '', 400, 40000],
    ['POST', '/keys/app.nokey/requestToken', '{"keyName":"app.nokey"}', 401, 40101],
  ])('%s %s', async (method, path, body, status, code) => {
    const r = await req(method, path, body);
    expect(r.status).toBe(status);
    expect(r.code).toBe(code);
    expect(r.body?.error?.code).toBe(code);
  });

  it('rejects invalid MessagePack bodies and oversized bodies', async () => {
    const mp = await req('POST', '/channels/x/messages', Buffer.from([0xc1]), { 'content-type': 'application/x-msgpack' });
    expect([mp.status, mp.code]).toEqual([400, 40000]);
    const big = await req('POST', '/channels/x/messages', JSON.stringify({ data: 'x'.repeat(2 << 20) }));
    expect([big.status, big.code]).toEqual([413, 40009]);
  });
});

describe('after all that', () => {
  it('the service is up, the bystander was unaffected, and a new client works', async () => {
    const c = await clients.connected();
    const got = await collector(c.channels.get('bystander'));
    await c.channels.get('bystander').publish('still', 'alive');
    await got.until(1);
    await bystander.until(1);
    expect(((await (await fetch(`http://${svc.host}:${svc.port}/health`)).json()) as { status: string }).status).toBe('ok');
  });
});
