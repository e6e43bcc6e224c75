/**
 * Planted defects of the history endpoint, for the self-check: a front that forwards every request
 * to the functions server unchanged, except that it spoils the answers of
 * `GET /api/rooms/{room}/messages` the way a broken endpoint would. Never deployed; the shipped
 * endpoint is untouched. The defects:
 * - drops-newest: the first page (no cursor) leaves out its newest row (an off-by-one);
 * - oldest-first: every page lists its rows oldest first (the paging itself stays right);
 * - overlap: `next` points at the page's second-to-last row, so the next page repeats the last.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export const HISTORY_DEFECTS = ['drops-newest', 'oldest-first', 'overlap'] as const;
export type HistoryDefect = (typeof HISTORY_DEFECTS)[number];

const HISTORY_PATH = /^\/api\/rooms\/[^/]+\/messages\/?$/;

interface Page {
  messages?: Array<{ id?: unknown; created_at?: unknown }>;
  next?: unknown;
}

/** The endpoint's cursor for a row: base64url of "<created_at in integer µs>:<id>". */
function cursorOf(row: { id?: unknown; created_at?: unknown }): string | undefined {
  if (typeof row.id !== 'string' || typeof row.created_at !== 'string') return undefined;
  const m = /^(.*\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?(.*)$/.exec(row.created_at);
  if (!m) return undefined;
  const seconds = Date.parse(`${m[1]}${m[3]}`);
  if (!Number.isFinite(seconds)) return undefined;
  const us = BigInt(seconds) * 1000n + BigInt((m[2] ?? '').padEnd(6, '0'));
  return Buffer.from(`${us}:${row.id}`).toString('base64url');
}

export function spoilPage(page: Page, defect: HistoryDefect, hadCursor: boolean): Page {
  const rows = page.messages ?? [];
  if (defect === 'drops-newest') return hadCursor ? page : { ...page, messages: rows.slice(1) };
  if (defect === 'oldest-first') return { ...page, messages: [...rows].reverse() };
  const before = rows.length >= 2 && page.next !== null ? cursorOf(rows[rows.length - 2]!) : undefined;
  return before ? { ...page, next: before } : page;
}

export async function startDefectiveHistory(upstream: URL, defect: HistoryDefect): Promise<{ url: string; stop(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://front');
    const spoil = req.method === 'GET' && HISTORY_PATH.test(url.pathname);
    const headers = { ...req.headers };
    // The body is rewritten, so it must come back uncompressed.
    if (spoil) delete headers['accept-encoding'];
    const up = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers }, (ur) => {
      if (!spoil || ur.statusCode !== 200) {
        res.writeHead(ur.statusCode ?? 502, ur.headers);
        ur.pipe(res);
        return;
      }
      const chunks: Buffer[] = [];
      ur.on('data', (c: Buffer) => chunks.push(c));
      ur.on('end', () => {
        const body = Buffer.from(JSON.stringify(spoilPage(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Page, defect, url.searchParams.has('before'))));
        const out = { ...ur.headers, 'content-length': String(body.length) };
        delete out['transfer-encoding'];
        res.writeHead(200, out);
        res.end(body);
      });
    });
    up.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502);
      res.end(String(err));
    });
    req.pipe(up);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
