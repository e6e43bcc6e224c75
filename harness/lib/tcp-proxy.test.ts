import { createServer, connect, type AddressInfo } from 'node:net';
import { once } from 'node:events';
import { afterAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { inject } from 'vitest';
import { startTcpProxy } from './tcp-proxy.ts';

describe('tcp proxy', () => {
  const echo = createServer((s) => s.pipe(s));
  afterAll(() => new Promise<void>((r) => echo.close(() => r())));

  async function echoPort(): Promise<number> {
    if (!echo.listening) await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
    return (echo.address() as AddressInfo).port;
  }

  async function roundTrip(port: number): Promise<number> {
    const s = connect({ host: '127.0.0.1', port });
    await once(s, 'connect');
    const t0 = performance.now();
    s.write('ping');
    await once(s, 'data');
    const ms = performance.now() - t0;
    s.destroy();
    return ms;
  }

  it('adds the configured latency in each direction', async () => {
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: await echoPort() });
    // Without latency the echo comes back (how fast depends on the machine, so it is not judged);
    // with 50 ms each way it can never be back in under 100 ms less timer rounding.
    expect(await roundTrip(proxy.port)).toBeGreaterThan(0);
    proxy.set({ latencyMs: 50 });
    expect(await roundTrip(proxy.port)).toBeGreaterThanOrEqual(95);
    await proxy.stop();
  });

  it('cuts a live Postgres link and lets new connections through once restored', async () => {
    const admin = new URL(inject('pgAdminUrl'));
    const proxy = await startTcpProxy({ host: admin.hostname, port: Number(admin.port) });
    const viaProxy = new URL(admin);
    viaProxy.port = String(proxy.port);
    const c = new pg.Client({ connectionString: viaProxy.toString() });
    c.on('error', () => {});
    await c.connect();
    expect((await c.query('SELECT 1 AS x')).rows).toEqual([{ x: 1 }]);
    proxy.set({ cut: true });
    await expect(c.query('SELECT 1')).rejects.toThrow();
    const refused = new pg.Client({ connectionString: viaProxy.toString(), connectionTimeoutMillis: 2000 });
    refused.on('error', () => {});
    await expect(refused.connect()).rejects.toThrow();
    proxy.clear();
    const again = new pg.Client({ connectionString: viaProxy.toString() });
    await again.connect();
    expect((await again.query('SELECT 2 AS x')).rows).toEqual([{ x: 2 }]);
    await again.end();
    await proxy.stop();
  });
});
