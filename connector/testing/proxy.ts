/**
 * A TCP proxy in front of Postgres that can freeze its current connections: bytes stop flowing
 * both ways while the sockets stay open. That is what a silently dropped connection looks like
 * to both ends (no FIN, no RST), and what a NAT or a failing link does to an idle LISTEN session.
 */
import net from 'node:net';

export interface FreezableProxy {
  port: number;
  /** Existing connections go silent; new ones work normally. */
  freezeExisting(): number;
  close(): Promise<void>;
}

export async function startProxy(targetHost: string, targetPort: number): Promise<FreezableProxy> {
  const pairs = new Set<{ a: net.Socket; b: net.Socket; frozen: boolean }>();
  const server = net.createServer((a) => {
    const b = net.connect(targetPort, targetHost);
    const pair = { a, b, frozen: false };
    pairs.add(pair);
    a.on('data', (d) => !pair.frozen && b.write(d));
    b.on('data', (d) => !pair.frozen && a.write(d));
    const end = () => {
      if (pair.frozen) return; // a frozen link tells neither side anything
      a.destroy();
      b.destroy();
      pairs.delete(pair);
    };
    a.on('close', end).on('error', end);
    b.on('close', end).on('error', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    freezeExisting: () => {
      for (const p of pairs) p.frozen = true;
      return pairs.size;
    },
    close: async () => {
      for (const p of pairs) {
        p.a.destroy();
        p.b.destroy();
      }
      await new Promise((r) => server.close(r));
    },
  };
}
