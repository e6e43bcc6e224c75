/** Helpers for tests that drive the realtime service through the real ably SDK. */
import { createServer, connect, type Server, type Socket } from 'node:net';
import * as Ably from 'ably';
import { RealtimeService, type RealtimeServiceOptions, type StartedRealtime } from './service.ts';

/** Real SDK clients pointed at a started service, all closed by `closeAll()`. */
export class Clients {
  private readonly realtimes: Ably.Realtime[] = [];

  constructor(readonly svc: StartedRealtime) {}

  realtime(opts: Ably.ClientOptions = {}): Ably.Realtime {
    const auth = opts.authCallback || opts.authUrl || opts.token || opts.tokenDetails ? {} : { key: this.svc.apiKey };
    const c = new Ably.Realtime({ ...this.svc.clientOptions(), ...auth, logLevel: 0, ...opts });
    this.realtimes.push(c);
    return c;
  }

  rest(opts: Ably.ClientOptions = {}): Ably.Rest {
    const auth = opts.authCallback || opts.authUrl || opts.token || opts.tokenDetails ? {} : { key: this.svc.apiKey };
    return new Ably.Rest({ ...this.svc.clientOptions(), ...auth, logLevel: 0, ...opts });
  }

  async connected(opts: Ably.ClientOptions = {}): Promise<Ably.Realtime> {
    const c = this.realtime(opts);
    await c.connection.whenState('connected');
    return c;
  }

  closeAll(): void {
    for (const c of this.realtimes.splice(0)) c.close();
  }
}

export async function startTestService(opts: RealtimeServiceOptions = {}): Promise<{ svc: StartedRealtime; clients: Clients }> {
  const svc = await new RealtimeService(opts).start();
  return { svc, clients: new Clients(svc) };
}

/** Polls until `cond` holds; for state that has no event to await. */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Polls an async check until it holds (e.g. a server's health endpoint). */
export async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Subscribes and collects messages; `until(n)` resolves once n have arrived. */
export async function collector(channel: Ably.RealtimeChannel, event?: string) {
  const got: Ably.InboundMessage[] = [];
  const listener = (m: Ably.InboundMessage) => void got.push(m);
  if (event) await channel.subscribe(event, listener);
  else await channel.subscribe(listener);
  return {
    got,
    until: (n: number, timeoutMs = 5000) => waitFor(() => got.length >= n, `${n} messages on ${channel.name} (have ${got.length})`, timeoutMs).then(() => got),
  };
}

/** Resolves with the error of a promise that must reject. */
export async function rejection(p: Promise<unknown>): Promise<Ably.ErrorInfo> {
  try {
    await p;
  } catch (e) {
    return e as Ably.ErrorInfo;
  }
  throw new Error('expected the operation to fail, it succeeded');
}

/** A loopback TCP link in front of the service that a test can cut (clients then see the network go away) and restore. */
export class LinkProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async open(): Promise<number> {
    const server = createServer((client) => {
      const upstream = connect(this.target.port, this.target.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', resolve);
    });
    const addr = server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : this.port;
    this.server = server;
    return this.port;
  }

  /** Resets every connection and refuses new ones until `open()` again. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.resetAndDestroy();
    if (server) await new Promise((r) => server.close(r));
  }

  clientOptions(svc: StartedRealtime): Ably.ClientOptions {
    return { ...svc.clientOptions(), port: this.port, key: svc.apiKey, logLevel: 0 };
  }
}
