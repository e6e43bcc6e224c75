/**
 * The k6 scripts' protocol helpers against a started stack (realtime service, chat-writer,
 * connector, functions) over a real WebSocket with JSON text frames: sign-in, token exchange,
 * attach, publish a post, and the connector's INSERT arriving on incoming.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { RealtimeClient } from '../../scenarios/k6/lib/client.ts';
import { parseStamp, stampedText } from '../../scenarios/k6/lib/latency.ts';
import {
  chatPost,
  incomingChannel,
  outgoingChannel,
  parseTokenDetails,
  realtimeUrl,
  tokenExchangeRequest,
  type ChangeEvent,
  type ErrorInfo,
  type RealtimeTarget,
} from '../../scenarios/k6/lib/protocol.ts';
import { startStack, type StartedStack } from '../stack/index.ts';
import { freshDatabase } from '../testing/pg.ts';
import { send, signIn } from './node-session.ts';

let stack: StartedStack;
let target: RealtimeTarget;

beforeAll(async () => {
  stack = await startStack({ databaseUrl: await freshDatabase() });
  target = { host: stack.endpoints.realtime.host, port: stack.endpoints.realtime.port, tls: false };
});

afterAll(async () => {
  await stack?.stop();
});

/** A raw protocol connection driven by the k6 client, with every frame it received kept as text. */
function connect(token: string) {
  const frames: string[] = [];
  const changes: ChangeEvent[] = [];
  const errors: Array<{ error: ErrorInfo; fatal: boolean; channel?: string }> = [];
  const acks: number[] = [];
  const waiters: Array<() => void> = [];
  const poke = () => waiters.splice(0).forEach((w) => w());
  const ws = new WebSocket(realtimeUrl(target, token));
  const client = new RealtimeClient<string>((t) => ws.send(t), () => Date.now(), {
    ack: (p) => (acks.push(p.msgSerial), poke()),
    change: (_ch, c) => (changes.push(c), poke()),
    error: (error, fatal, channel) => (errors.push({ error, fatal, ...(channel ? { channel } : {}) }), poke()),
    attached: () => poke(),
    connected: () => poke(),
  });
  ws.on('message', (data, isBinary) => {
    if (isBinary) throw new Error('binary frame on a JSON connection');
    frames.push(String(data));
    client.receive(String(data));
  });
  const until = async (what: string, cond: () => boolean, ms = 10_000) => {
    const deadline = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; frames: ${frames.slice(-5).join(' | ')}`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  };
  const close = () => new Promise<void>((resolve) => (ws.readyState === ws.CLOSED ? resolve() : (ws.once('close', () => resolve()), client.close(), ws.close())));
  return { ws, client, frames, changes, errors, acks, until, close };
}

describe('k6 protocol helpers against the local stack', () => {
  it('signs in, exchanges the TokenRequest, attaches, posts, and receives the INSERT on incoming', async () => {
    const name = 'k6-proto-alice';
    const room = 'k6proto1';
    const auth = await signIn(stack.endpoints.loginUrl, stack.endpoints.tokenUrl, target, name);
    expect(auth.tokenRequest.clientId).toBe(name);
    expect(auth.token.length).toBeGreaterThan(10);

    const c = connect(auth.token);
    await c.until('CONNECTED', () => c.client.state === 'connected');
    expect(c.client.connectionId).not.toBe('');
    c.client.attach(incomingChannel(room));
    await c.until('ATTACHED incoming', () => c.client.isAttached(incomingChannel(room)));

    const sentAt = Date.now();
    const text = stampedText('op-1', 'p', sentAt, 'hello from k6');
    const p = c.client.publish(outgoingChannel(room), [chatPost('k6proto-post-1', text)], 'post');
    await c.until('ACK of the post', () => c.acks.includes(p.msgSerial));
    expect(c.client.inFlight).toBe(0);

    await c.until('INSERT on incoming', () => c.changes.some((x) => x.row.id === 'k6proto-post-1'));
    const insert = c.changes.find((x) => x.row.id === 'k6proto-post-1')!;
    expect(insert.name).toBe('INSERT');
    expect(insert.row).toMatchObject({ id: 'k6proto-post-1', text, author: name, version: 1, deleted: false });
    expect(parseStamp(insert.row.text)).toEqual({ opId: 'op-1', kind: 'p', sentAt });
    expect(c.errors).toEqual([]);
    // Every frame was JSON text, as k6's WebSocket needs.
    expect(c.frames.every((f) => typeof JSON.parse(f).action === 'number')).toBe(true);
    await c.close();
  });

  it('reports a refused attach as a channel error and a forged TokenRequest as an HTTP error', async () => {
    const auth = await signIn(stack.endpoints.loginUrl, stack.endpoints.tokenUrl, target, 'k6-proto-bob');
    const c = connect(auth.token);
    await c.until('CONNECTED', () => c.client.state === 'connected');
    // The chat's token grants nothing outside chat:* channels.
    c.client.attach('private:elsewhere');
    await c.until('channel ERROR', () => c.errors.length > 0);
    expect(c.errors[0]).toMatchObject({ fatal: false, channel: 'private:elsewhere', error: { code: 40160 } });
    expect(c.client.state).toBe('connected');
    await c.close();

    const forged = { ...auth.tokenRequest, clientId: 'someone-else' };
    const r = await send(tokenExchangeRequest(target, forged));
    expect(r.status).toBe(401);
    expect(() => parseTokenDetails(r.body)).toThrow(/requestToken response: expected TokenDetails/);
  });

  it('a token for the wrong realtime service is refused at connect with a fatal error', async () => {
    const c = connect('not-a-token');
    await c.until('ERROR', () => c.errors.length > 0);
    expect(c.errors[0]).toMatchObject({ fatal: true, error: { code: 40143 } });
    expect(c.client.state).toBe('failed');
    await c.close();
  });
});
