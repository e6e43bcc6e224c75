/**
 * A loopback TCP proxy placed on a link between two parts of the stack (e.g. connector ->
 * Postgres), so the nemesis can add latency and jitter or cut the link without external tools.
 * Latency is applied per chunk in each direction, preserving order.
 */
import { createServer, connect, type Socket } from 'node:net';
import { registerCleanup } from '../stack/cleanup.ts';
import { listen } from '../stack/ports.ts';

export interface LinkFault {
  latencyMs?: number;
  jitterMs?: number;
  /** Refuse new connections and reset existing ones. */
  cut?: boolean;
}

export interface StartedProxy {
  host: string;
  port: number;
  set(fault: LinkFault): void;
  clear(): void;
  connections(): number;
  stop(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }, opts: { port?: number } = {}): Promise<StartedProxy> {
  let fault: LinkFault = {};
  const sockets = new Set<Socket>();

  const delayed = (from: Socket, to: Socket) => {
    let chain = Promise.resolve();
    from.on('data', (chunk) => {
      const { latencyMs = 0, jitterMs = 0 } = fault;
      const wait = latencyMs + (jitterMs ? Math.random() * jitterMs : 0);
      if (wait <= 0) {
        to.write(chunk);
        return;
      }
      // Chain the writes so jitter never reorders bytes within a connection.
      chain = chain.then(() => new Promise<void>((r) => setTimeout(() => (to.destroyed || to.write(chunk), r()), wait)));
    });
    from.on('end', () => void chain.then(() => to.end()));
  };

  const server = createServer((client) => {
    if (fault.cut) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(target);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    delayed(client, upstream);
    delayed(upstream, client);
  });
  const port = await listen(server, opts.port ?? 0, '127.0.0.1');
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    unregister();
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  };
  const unregister = registerCleanup({ name: `tcp proxy :${port}`, stop });
  return {
    host: '127.0.0.1',
    port,
    set(f) {
      fault = { ...f };
      if (f.cut) for (const s of sockets) s.resetAndDestroy();
    },
    clear() {
      fault = {};
    },
    connections: () => sockets.size / 2,
    stop,
  };
}
