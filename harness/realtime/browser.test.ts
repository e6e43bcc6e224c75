/** The SDK's browser bundle (ably.js) in Chromium against the service: WebSocket with heartbeats, XHR polling (comet), REST over CORS. */
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StartedRealtime } from './index.ts';
import { Clients, collector, startTestService } from './testing.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const bundle = join(createRequire(import.meta.url).resolve('ably'), '../ably.js');

let svc: StartedRealtime;
let clients: Clients;
let browser: Browser;
/** Chromium only lets a page reach loopback services from a loopback origin, so the page is served from one. */
let page: Server;
let pageUrl: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM} (the CI script installs it)`);
  ({ svc, clients } = await startTestService());
  browser = await chromium.launch({ executablePath: CHROMIUM });
  const js = readFileSync(bundle);
  page = createServer((req, res) => {
    if (req.url === '/ably.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(js);
    else res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><script src="/ably.js"></script>');
  });
  await new Promise<void>((r) => page.listen(0, '127.0.0.1', r));
  const addr = page.address();
  pageUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/`;
});
afterAll(async () => {
  await browser?.close();
  await new Promise((r) => page?.close(r));
  clients.closeAll();
  await svc.stop();
});

describe('browser build of the ably SDK', () => {
  it('connects over WebSocket with heartbeats, subscribes, publishes, and uses REST cross-origin', async () => {
    const tab = await browser.newPage();
    try {
      await tab.goto(pageUrl);
      const node = await clients.connected();
      const fromBrowser = await collector(node.channels.get('browser:out'));
      const opts = { ...svc.clientOptions(), key: svc.apiKey, clientId: 'browser-user', logLevel: 0 };
      const run = tab.evaluate(async (o) => {
        const A = (globalThis as unknown as { Ably: typeof import('ably') }).Ably;
        const rt = new A.Realtime(o);
        await rt.connection.whenState('connected');
        const got: unknown[] = [];
        const inbox = rt.channels.get('browser:in');
        await inbox.subscribe((m) => void got.push(m.data));
        await rt.channels.get('browser:out').publish('hello', { from: 'browser', bin: 'ok' });
        const deadline = Date.now() + 5000;
        while (got.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
        const rest = new A.Rest(o);
        const time = await rest.time();
        await rest.channels.get('browser:rest').publish('via-rest', 'r');
        const history = await rest.channels.get('browser:rest').history();
        const transport = (rt.connection as unknown as { connectionManager: { activeProtocol: { transport: { shortName: string; params: { heartbeats: boolean } } } } }).connectionManager.activeProtocol.transport;
        rt.close();
        return { got, time, history: history.items.map((m) => m.data), transport: transport.shortName, heartbeats: transport.params.heartbeats };
      }, opts);
      // Wait for the browser's subscription before publishing to it.
      await fromBrowser.until(1);
      await node.channels.get('browser:in').publish('to-browser', 'one');
      await node.channels.get('browser:in').publish('to-browser', { two: 2 });
      const result = await run;
      expect(fromBrowser.got[0]).toMatchObject({ name: 'hello', clientId: 'browser-user', data: { from: 'browser', bin: 'ok' } });
      expect(result.got).toEqual(['one', { two: 2 }]);
      expect(Math.abs(result.time - Date.now())).toBeLessThan(2000);
      expect(result.history).toEqual(['r']);
      expect(result).toMatchObject({ transport: 'web_socket', heartbeats: true });
    } finally {
      await tab.close();
    }
  });

  it('connects over XHR polling (the comet transport) cross-origin, subscribes and publishes', async () => {
    const tab = await browser.newPage();
    try {
      await tab.goto(pageUrl);
      const node = await clients.connected();
      const fromBrowser = await collector(node.channels.get('browser-xhr:out'));
      const opts = { ...svc.clientOptions(), key: svc.apiKey, clientId: 'xhr-user', logLevel: 0, transports: ['xhr_polling'] };
      const run = tab.evaluate(async (o) => {
        const A = (globalThis as unknown as { Ably: typeof import('ably') }).Ably;
        const rt = new A.Realtime(o as import('ably').ClientOptions);
        await rt.connection.whenState('connected');
        const got: unknown[] = [];
        await rt.channels.get('browser-xhr:in').subscribe((m) => void got.push(m.data));
        await rt.channels.get('browser-xhr:out').publish('hello', 'from xhr');
        const deadline = Date.now() + 5000;
        while (got.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
        const transport = (rt.connection as unknown as { connectionManager: { activeProtocol: { transport: { shortName: string } } } }).connectionManager.activeProtocol.transport;
        rt.close();
        await rt.connection.whenState('closed');
        return { got, transport: transport.shortName };
      }, opts);
      await fromBrowser.until(1);
      await node.channels.get('browser-xhr:in').publish('to-browser', 'one');
      await node.channels.get('browser-xhr:in').publish('to-browser', { two: 2 });
      const result = await run;
      expect(fromBrowser.got[0]).toMatchObject({ name: 'hello', clientId: 'xhr-user', data: 'from xhr' });
      expect(result).toEqual({ got: ['one', { two: 2 }], transport: 'xhr_polling' });
    } finally {
      await tab.close();
    }
  });
});
