/**
 * The comet transport: one client's frames carried over HTTP requests instead of a socket, as
 * ably-js's comet transport (Node and browser XHR) speaks it. The client holds one receive request
 * open at a time (`/comet/connect`, then `/comet/<connectionKey>/recv`); the server answers it with
 * newline-terminated JSON arrays of protocol messages. Frames sent while no request is open wait
 * here until the next one. To Connection it is a Transport like a WebSocket (transport.ts).
 */
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { OPEN, type Transport } from './transport.ts';

const CLOSING = 2;
const CLOSED = 3;

export interface CometTiming {
  /** How long one receive request stays open before it is answered (the client then polls again). */
  pollMs: number;
  /** How long the transport waits for the client's next receive request before it counts as gone. */
  absentMs: number;
}

interface Recv {
  res: ServerResponse;
  /** Streamed: several arrays per response until `pollMs`; else the response ends with its first array. */
  stream: boolean;
  wrote: boolean;
  timer: NodeJS.Timeout;
}

export class CometTransport extends EventEmitter implements Transport {
  readyState = OPEN;
  /** JSON-encoded protocol messages not yet written to a receive request. */
  private pending: string[] = [];
  private pendingBytes = 0;
  private recv: Recv | null = null;
  private absent: NodeJS.Timeout | undefined;
  private flushQueued = false;

  /** `stream`: the client reads each request's arrays as they come (ably-js's default), else one array per request. */
  constructor(
    private readonly timing: CometTiming,
    readonly stream: boolean,
  ) {
    super();
    this.armAbsent();
  }

  get bufferedAmount(): number {
    return this.pendingBytes + (this.recv?.res.writableLength ?? 0);
  }

  get finished(): boolean {
    return this.readyState === CLOSED;
  }

  send(frame: Buffer | string): void {
    if (this.readyState !== OPEN) return;
    const text = typeof frame === 'string' ? frame : frame.toString('utf8');
    this.pending.push(text);
    this.pendingBytes += text.length;
    // Frames sent in one event-loop turn (a publish's ACK and its echo, a SYNC) leave as one array.
    if (!this.flushQueued) {
      this.flushQueued = true;
      process.nextTick(() => {
        this.flushQueued = false;
        this.flush();
      });
    }
  }

  /** Frames from the client's send request, one protocol message each, as a socket would hand them over. */
  receive(messages: unknown[]): void {
    for (const m of messages) {
      if (this.readyState !== OPEN) return;
      this.emit('message', Buffer.from(JSON.stringify(m), 'utf8'), false);
    }
  }

  /** A receive request from the client: it gets what is pending now, then what follows. */
  attach(res: ServerResponse): void {
    if (this.readyState === CLOSED) {
      endEmpty(res);
      return;
    }
    this.endRecv();
    clearTimeout(this.absent);
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache, no-store' });
    res.flushHeaders();
    const recv: Recv = { res, stream: this.stream, wrote: false, timer: setTimeout(() => this.endRecv(), this.timing.pollMs) };
    this.recv = recv;
    // The client cut its request before it was answered: the transport is lost, as a dropped socket.
    res.on('close', () => {
      if (this.recv === recv && !res.writableEnded) this.terminate();
    });
    this.flush();
  }

  close(): void {
    if (this.readyState !== OPEN) return;
    this.readyState = CLOSING;
    this.flush();
    // Nothing left to deliver, or the client's request took it: done. Else the next request takes it.
    if (this.pending.length === 0) this.finish();
  }

  terminate(): void {
    if (this.readyState === CLOSED) return;
    const recv = this.recv;
    this.recv = null;
    if (recv) {
      clearTimeout(recv.timer);
      recv.res.destroy();
    }
    this.pending = [];
    this.pendingBytes = 0;
    this.finish();
  }

  /** Answering the open request is the keep-alive: its completion is activity to the client. */
  ping(): void {
    this.endRecv();
  }

  private flush(): void {
    const recv = this.recv;
    if (!recv || this.pending.length === 0) return;
    recv.res.write(`[${this.pending.join(',')}]\n`);
    recv.wrote = true;
    this.pending = [];
    this.pendingBytes = 0;
    if (!recv.stream || this.readyState !== OPEN) this.endRecv();
  }

  private endRecv(): void {
    const recv = this.recv;
    if (!recv) return;
    this.recv = null;
    clearTimeout(recv.timer);
    // A poll must carry a JSON body: an empty array says "nothing yet".
    recv.res.end(recv.wrote ? undefined : '[]\n');
    if (this.readyState === CLOSING) this.finish();
    else this.armAbsent();
  }

  private armAbsent(): void {
    clearTimeout(this.absent);
    this.absent = setTimeout(() => {
      if (this.recv) return;
      if (this.readyState === CLOSING) this.finish();
      else this.terminate();
    }, this.timing.absentMs);
    this.absent.unref();
  }

  private finish(): void {
    if (this.readyState === CLOSED) return;
    this.readyState = CLOSED;
    clearTimeout(this.absent);
    this.emit('close');
  }
}

function endEmpty(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache, no-store' });
  res.end('[]\n');
}
