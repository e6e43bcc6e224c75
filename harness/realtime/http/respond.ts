/** HTTP plumbing shared by the REST and admin routes: formats, bodies and Ably-shaped errors. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { decodeBody, encodeFrame } from '../protocol/codec.ts';
import type { Format } from '../protocol/constants.ts';
import { AblyError, Errors } from '../protocol/errors.ts';

/** The response format the client asked for (the SDK sends `Accept: application/x-msgpack` when binary). */
export function responseFormat(req: IncomingMessage, url: URL): Format {
  if (url.searchParams.get('format') === 'msgpack') return 'msgpack';
  return (req.headers.accept ?? '').includes('application/x-msgpack') ? 'msgpack' : 'json';
}

export function send(res: ServerResponse, status: number, body: unknown, format: Format, headers: Record<string, string> = {}): void {
  const bytes = encodeFrame(body as object, format);
  res.writeHead(status, {
    'content-type': format === 'msgpack' ? 'application/x-msgpack' : 'application/json',
    'content-length': String(bytes.length),
    ...headers,
  });
  res.end(bytes);
}

export function sendText(res: ServerResponse, status: number, text: string, contentType = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}

export function sendError(res: ServerResponse, err: AblyError, format: Format): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  send(res, err.statusCode, { error: err.toWire() }, format, {
    'x-ably-errorcode': String(err.code),
    // Header values must be Latin-1: keep the message readable, drop the rest.
    'x-ably-errormessage': err.message.replace(/[^\x20-\x7e]/g, '?'),
  });
}

/** Reads a request body up to `limit` bytes; a larger one is a 40009 error. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      if (over) return;
      size += c.length;
      if (size > limit) {
        // Keep reading (and dropping) the rest so the client gets its 413 instead of a reset.
        over = true;
        chunks.length = 0;
        reject(new AblyError(40009, 413, `Request body exceeds ${limit} bytes`));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Decodes a body by its Content-Type (JSON unless it says MessagePack). */
export async function readDecoded(req: IncomingMessage, limit: number): Promise<unknown> {
  const body = await readBody(req, limit);
  if (!body.length) throw Errors.badRequest('Request body is empty');
  const type = req.headers['content-type'] ?? '';
  return decodeBody(body, type.includes('msgpack') ? 'msgpack' : 'json');
}
