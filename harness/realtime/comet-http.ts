/**
 * The comet transport's HTTP requests, as ably-js makes them (comettransport.ts and the Node and
 * XHR request classes):
 *   GET  /comet/connect?<the WebSocket query>        opens a connection; its response is the first receive
 *   GET  /comet/<connectionKey>/recv?<auth>          the next receive request (long poll, streamed)
 *   POST /comet/<connectionKey>/send?<auth>          a JSON array of protocol messages; 204
 *   GET  /comet/<connectionKey>/close|disconnect     CLOSE or DISCONNECT, as a WebSocket client sends them
 * The connection behind it is the same Connection a WebSocket gets (handshake.ts), so resume,
 * recovery, limits and auth behave alike. Comet carries JSON only (ably-js forces it).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CometTransport, type CometTiming } from './comet.ts';
import type { Connection } from './connection.ts';
import type { RealtimeCore } from './core.ts';
import { acceptRealtime } from './handshake.ts';
import { readBody, sendError } from './http/respond.ts';
import { cors } from './http/router.ts';
import { decodeBody } from './protocol/codec.ts';
import { Action } from './protocol/constants.ts';
import { AblyError, Errors, isAblyError } from './protocol/errors.ts';

export const COMET_PREFIX = '/comet/';

export interface CometOptions extends CometTiming {
  /** Largest send request body: several protocol messages the client queued while a send was in flight. */
  maxBodyBytes: number;
}

interface Tracked {
  transport: CometTransport;
  conn: Connection;
}

export class CometServer {
  /** Live comet transports by the connection key their CONNECTED carried (the key in their URLs). */
  private readonly byKey = new Map<string, Tracked>();

  constructor(
    private readonly core: RealtimeCore,
    private readonly o: CometOptions,
  ) {}

  /** Serves a `/comet/...` request; false for any other path (the caller routes it on). */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    if (!(req.url ?? '').startsWith(COMET_PREFIX)) return false;
    cors(req, res);
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { 'access-control-max-age': '600' });
      res.end();
      return true;
    }
    this.route(req, res).catch((e: unknown) => {
      const err = isAblyError(e) ? e : Errors.internal('Internal error');
      if (!isAblyError(e)) this.core.log.error({ err: e }, 'unexpected error in a comet request');
      this.core.stats.error(err.code);
      sendError(res, err, 'json');
    });
    return true;
  }

  /** Ends every comet transport at once (service stop or crash). */
  stop(): void {
    for (const { transport } of [...this.byKey.values()]) transport.terminate();
    this.byKey.clear();
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://local');
    const seg = url.pathname.slice(COMET_PREFIX.length).split('/');
    const method = req.method ?? 'GET';
    this.core.stats.restRequest('comet');
    if (seg.length === 1 && seg[0] === 'connect') {
      if (method !== 'GET') throw Errors.methodNotAllowed(`Method ${method} not allowed on /comet/connect`);
      return this.connect(res, url);
    }
    const op = seg[1];
    if (seg.length !== 2 || !op || !['recv', 'send', 'close', 'disconnect'].includes(op)) throw Errors.notFound(`No such resource: ${url.pathname.slice(0, 200)}`);
    const tracked = this.lookup(decodeURIComponent(seg[0]!), url);
    if (op === 'send') {
      if (method !== 'POST') throw Errors.methodNotAllowed(`Method ${method} not allowed on comet send`);
      const body = decodeBody(await readBody(req, this.o.maxBodyBytes), 'json');
      tracked.transport.receive(Array.isArray(body) ? body : [body]);
    } else if (op === 'recv') {
      return tracked.transport.attach(res);
    } else {
      tracked.transport.receive([{ action: op === 'close' ? Action.CLOSE : Action.DISCONNECT }]);
    }
    res.writeHead(204);
    res.end();
  }

  private connect(res: ServerResponse, url: URL): void {
    url.searchParams.set('format', 'json');
    const transport = new CometTransport(this.o, url.searchParams.get('stream') !== 'false');
    // The connect request is the first receive: CONNECTED (or ERROR) goes out on it.
    transport.attach(res);
    const conn = acceptRealtime(this.core, transport, url);
    if (!conn) return;
    const key = conn.key;
    this.byKey.set(key, { transport, conn });
    transport.on('close', () => {
      if (this.byKey.get(key)?.transport === transport) this.byKey.delete(key);
    });
  }

  /**
   * The transport a request's URL names, checked against the request's credentials: the same
   * app key as the connection's (a token renewed with AUTH is a new token of the same key).
   * An unknown key answers 80008, which the client takes as a disconnection and resumes from.
   */
  private lookup(key: string, url: URL): Tracked {
    const tracked = this.byKey.get(key);
    if (!tracked || tracked.transport.finished) throw new AblyError(80008, 404, 'Unable to find the connection of this comet request: it has ended or expired');
    const token = url.searchParams.get('access_token');
    const apiKey = url.searchParams.get('key');
    const identity = token ? this.core.auth.token(token) : apiKey ? this.core.auth.basic(apiKey) : undefined;
    if (!identity) throw Errors.noCredentials();
    if (identity.keyName !== tracked.conn.identity.keyName) throw Errors.incompatibleCredentials('The credentials of this comet request belong to another key than its connection');
    return tracked;
  }
}
