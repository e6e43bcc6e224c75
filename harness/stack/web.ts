/**
 * The web app's origin: serves the generated static site and, on the same origin, forwards
 * `/api/*` to the functions server (login, token, history), so the session cookie and the
 * token endpoint work exactly as on the deployed site. `/api/config` tells the browser where the
 * realtime service is.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { extname, join, normalize, resolve } from 'node:path';
import { registerCleanup } from '../lib/cleanup.ts';
import { listen } from '../lib/ports.ts';

export interface WebServerOptions {
  dir: string;
  functionsUrl: string;
  /** ably client options for browsers (endpoint, port, tls...); {} means real Ably. */
  realtimeClientOptions: Record<string, unknown>;
  host?: string;
  port?: number;
}

export interface StartedWeb {
  url: string;
  stop(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

export async function startWebServer(opts: WebServerOptions): Promise<StartedWeb> {
  const root = resolve(opts.dir);
  if (!existsSync(join(root, 'index.html')) && !existsSync(join(root, '200.html'))) {
    throw new Error(`web app not built: ${root} has no index.html (run the web build first)`);
  }
  const fallback = existsSync(join(root, '200.html')) ? join(root, '200.html') : join(root, 'index.html');
  const upstream = new URL(opts.functionsUrl);

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://local');
    if (url.pathname === '/api/config') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify({ realtime: opts.realtimeClientOptions }));
      return;
    }
    if (url.pathname.startsWith('/api/')) return forward(req, res, upstream);
    serveStatic(root, fallback, decodeURIComponent(url.pathname), res);
  });
  const port = await listen(server, opts.port ?? 0, opts.host ?? '127.0.0.1');
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    unregister();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  };
  const unregister = registerCleanup({ name: 'web server', stop });
  return { url: `http://${opts.host ?? '127.0.0.1'}:${port}`, stop };
}

function serveStatic(root: string, fallback: string, pathname: string, res: ServerResponse): void {
  // normalize() collapses '..' so a request cannot climb out of the site's folder.
  let file = join(root, normalize(pathname).replace(/^(\.\.[/\\])+/, ''));
  if (!file.startsWith(root)) file = fallback;
  if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
  // Client-side routes (/rooms/x) get the app shell.
  if (!existsSync(file)) file = fallback;
  res.writeHead(200, {
    'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
    'cache-control': file.includes('/_nuxt/') ? 'public, max-age=31536000, immutable' : 'no-cache',
  });
  createReadStream(file).pipe(res);
}

function forward(req: IncomingMessage, res: ServerResponse, upstream: URL): void {
  const out = request(
    {
      host: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: req.url,
      headers: { ...req.headers, host: upstream.host },
    },
    (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    },
  );
  out.on('error', (err) => {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: `functions server unreachable: ${err.message}` }));
  });
  req.pipe(out);
}
