/**
 * A loopback TCP proxy placed on a link between two parts of the stack (e.g. connector ->
 * Postgres), so the nemesis can add latency and jitter or cut the link without external tools.
 * Latency is applied per chunk in each direction, preserving order.
 */
import { createServer, connect, type Socket } from 'node:net';
import { registerCleanup } from './cleanup.ts';
import { listen } from './ports.ts';
import { randomSource } from './rng.ts';

export interface LinkFault {
  latencyMs?: number;
  jitterMs?: number;
  /** Seeds the jitter, so a run's seed decides every delay (default: Math.random). */
  seed?: number;
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
  let random = randomSource(undefined);
  const sockets = new Set<Socket>();

  // Each chunk is due at its arrival time plus the latency; a queue keeps the bytes of one
  // direction in order without adding the delays of a burst's chunks up.
  const delayed = (from: Socket, to: Socket) => {
    const queue: Array<{ due: number; chunk: Buffer }> = [];
    let timer: NodeJS.Timeout | undefined;
    let ended = false;
    const pump = () => {
      timer = undefined;
      const now = performance.now();
      while (queue.length && queue[0]!.due <= now) {
        const { chunk } = queue.shift()!;
        if (!to.destroyed) to.write(chunk);
      }
      if (queue.length) timer = setTimeout(pump, queue[0]!.due - now);
      else if (ended) to.end();
    };
    from.on('data', (chunk: Buffer) => {
      const { latencyMs = 0, jitterMs = 0 } = fault;
      const wait = latencyMs + (jitterMs ? random() * jitterMs : 0);
      if (wait <= 0 && !queue.length) {
        to.write(chunk);
        return;
      }
      const due = Math.max(performance.now() + wait, queue.length ? queue[queue.length - 1]!.due : 0);
      queue.push({ due, chunk });
      timer ??= setTimeout(pump, due - performance.now());
    });
    from.on('end', () => {
      ended = true;
      if (!queue.length) to.end();
    });
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
      random = randomSource(f.seed);
      if (f.cut) for (const s of sockets) s.resetAndDestroy();
    },
    clear() {
      fault = {};
    },
    connections: () => sockets.size / 2,
    stop,
  };
}
