/**
 * A slow link in front of the history function, for one race: the page is read from the
 * database, then held on its way back until the test lets it go. Meanwhile a newer edit can
 * reach the late joiner live, so the page lands after it: the merge must keep the newer version.
 * Unarmed, it passes requests straight through.
 */
import { createServer, type Server } from 'node:http';
import { registerCleanup } from '../../../harness/lib/cleanup.ts';

export interface HeldPage {
  /** Resolves once the database answered (the page is read and held). */
  read: Promise<void>;
  release(): void;
}

export class HistoryGate {
  private armed: { onRead: () => void; released: Promise<void> } | undefined;

  private constructor(
    private readonly server: Server,
    /** The history endpoint, as a client should use it, through this gate. */
    readonly url: string,
    private readonly unregister: () => void,
  ) {}

  static async start(upstreamHistoryUrl: string): Promise<HistoryGate> {
    const upstream = new URL(upstreamHistoryUrl);
    let gate: HistoryGate | undefined;
    const server = createServer((req, res) => {
      const target = new URL(req.url ?? '/', upstream.origin);
      const hold = gate?.armed;
      if (gate) gate.armed = undefined;
      const headers: Record<string, string> = {};
      if (req.headers.cookie) headers.cookie = req.headers.cookie;
      fetch(target, { headers })
        .then(async (r) => {
          const body = Buffer.from(await r.arrayBuffer());
          if (hold) {
            hold.onRead();
            await hold.released;
          }
          res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/json' });
          res.end(body);
        })
        .catch((err: unknown) => {
          hold?.onRead();
          res.writeHead(502, { 'content-type': 'text/plain' });
          res.end(`history gate: ${String(err)}`);
        });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const addr = server.address();
    const port = typeof addr === 'object' && addr ? addr.port : 0;
    const url = `http://127.0.0.1:${port}${upstream.pathname}${upstream.search}`;
    const unregister = registerCleanup({ name: `history gate :${port}`, stop: async () => gate?.stop(), stopSync: () => server.close() });
    gate = new HistoryGate(server, url, unregister);
    return gate;
  }

  /** The next request's page is held after it was read, until `release()`. */
  holdNext(): HeldPage {
    let onRead!: () => void;
    let release!: () => void;
    const read = new Promise<void>((r) => (onRead = r));
    const released = new Promise<void>((r) => (release = r));
    this.armed = { onRead, released };
    return {
      read,
      release: () => {
        if (this.armed?.released === released) this.armed = undefined;
        release();
      },
    };
  }

  async stop(): Promise<void> {
    this.unregister();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
