/**
 * Raw Ably-protocol connections, for what no SDK would send: frames at any rate, a socket that
 * stops reading, a frame header announcing more than the service accepts. JSON format; the
 * action numbers are the protocol's (see docs in harness/realtime/README.md).
 */
import { connect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';

export const Action = { HEARTBEAT: 0, ACK: 1, NACK: 2, CONNECTED: 4, ERROR: 9, ATTACH: 10, ATTACHED: 11, MESSAGE: 15 } as const;

export interface RealtimeAddress {
  host: string;
  port: number;
}

interface Frame {
  action: number;
  count?: number;
  channel?: string;
  error?: { code: number };
  messages?: unknown[];
}

export function wsUrl(at: RealtimeAddress, token: string): string {
  return `ws://${at.host}:${at.port}/?access_token=${encodeURIComponent(token)}&format=json&v=6&heartbeats=true`;
}

/** One raw connection: what came back, tallied by kind, and how it ended. */
export class RawConnection {
  acked = 0;
  readonly nacks = new Map<number, number>();
  readonly errors: number[] = [];
  heartbeats = 0;
  /** MESSAGE frames' messages received, per channel. */
  readonly received = new Map<string, number>();
  /** Channels that were ATTACHED again with an error (a continuity loss), by code. */
  readonly attachErrors: number[] = [];
  readonly closed: Promise<number>;
  private listeners: Array<(f: Frame) => void> = [];

  private constructor(private readonly ws: WebSocket) {
    this.closed = new Promise((resolve) => ws.once('close', (code: number) => resolve(code)));
    ws.on('error', () => {});
    ws.on('message', (d: Buffer) => {
      let f: Frame;
      try {
        f = JSON.parse(d.toString()) as Frame;
      } catch {
        return;
      }
      this.tally(f);
      for (const l of this.listeners) l(f);
    });
  }

  static open(at: RealtimeAddress, token: string, timeoutMs = 10_000): Promise<RawConnection> {
    const ws = new WebSocket(wsUrl(at, token), { perMessageDeflate: false });
    const c = new RawConnection(ws);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => (ws.terminate(), reject(new Error(`no CONNECTED within ${timeoutMs} ms`))), timeoutMs);
      c.until((f) => f.action === Action.CONNECTED || f.action === Action.ERROR).then((f) => {
        clearTimeout(timer);
        if (f.action === Action.CONNECTED) resolve(c);
        else (ws.terminate(), reject(new Error(`connection refused: ${f.error?.code ?? '?'}`)));
      });
      void c.closed.then((code) => (clearTimeout(timer), reject(new Error(`closed before CONNECTED (${code})`))));
    });
  }

  private tally(f: Frame): void {
    if (f.action === Action.ACK) this.acked += f.count ?? 1;
    else if (f.action === Action.NACK) this.nacks.set(f.error?.code ?? 0, (this.nacks.get(f.error?.code ?? 0) ?? 0) + (f.count ?? 1));
    else if (f.action === Action.ERROR && f.error) this.errors.push(f.error.code);
    else if (f.action === Action.HEARTBEAT) this.heartbeats++;
    else if (f.action === Action.MESSAGE && f.channel) this.received.set(f.channel, (this.received.get(f.channel) ?? 0) + (f.messages?.length ?? 0));
    else if (f.action === Action.ATTACHED && f.error) this.attachErrors.push(f.error.code);
  }

  /** The next frame matching `pred` (frames already seen do not count). */
  until(pred: (f: Frame) => boolean): Promise<Frame> {
    return new Promise((resolve) => {
      const l = (f: Frame) => {
        if (!pred(f)) return;
        this.listeners = this.listeners.filter((x) => x !== l);
        resolve(f);
      };
      this.listeners.push(l);
    });
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  send(pm: object): void {
    if (this.open) this.ws.send(JSON.stringify(pm));
  }

  async attach(channel: string, timeoutMs = 10_000): Promise<void> {
    const attached = this.until((f) => (f.action === Action.ATTACHED || f.action === Action.ERROR) && f.channel === channel);
    this.send({ action: Action.ATTACH, channel });
    const f = await withTimeout(attached, timeoutMs, `attach of ${channel}`);
    if (f.action !== Action.ATTACHED) throw new Error(`attach of ${channel} refused: ${f.error?.code ?? '?'}`);
  }

  /** Stops reading the socket: what the service sends piles up in its buffers, then in the service. */
  pause(): void {
    this.ws.pause();
  }

  resume(): void {
    this.ws.resume();
  }

  close(): void {
    this.ws.terminate();
  }
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)));
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/**
 * Upgrades a plain TCP socket to a WebSocket, then sends a binary frame header announcing
 * `declaredBytes` followed by only `sentBytes` of it. A service that checks the size from the
 * header closes at once (1009); one that buffers waits for the rest. Resolves with the close
 * code the service sent, or 'timeout' when it neither closed nor answered in `timeoutMs`.
 */
export function oversizeFrame(at: RealtimeAddress, token: string, declaredBytes: number, sentBytes: number, timeoutMs = 5_000): Promise<number | 'closed-without-code' | 'timeout'> {
  return new Promise((resolve, reject) => {
    const sock: Socket = connect(at.port, at.host);
    let buf = Buffer.alloc(0);
    let upgraded = false;
    let timer: NodeJS.Timeout | undefined;
    const done = (r: number | 'closed-without-code' | 'timeout') => (clearTimeout(timer), sock.destroy(), resolve(r));
    const refuse = (err: Error) => (clearTimeout(timer), sock.destroy(), reject(err));
    // A loaded machine may take long to upgrade; only the answer to the frame itself is timed.
    timer = setTimeout(() => refuse(new Error('no WebSocket upgrade within 20 s')), 20_000);
    sock.on('error', (err) => (upgraded ? done('closed-without-code') : refuse(err)));
    sock.on('close', () => (upgraded ? done('closed-without-code') : refuse(new Error('closed before the upgrade'))));
    sock.on('connect', () => {
      const key = randomBytes(16).toString('base64');
      const path = new URL(wsUrl(at, token));
      sock.write(`GET ${path.pathname}${path.search} HTTP/1.1\r\nHost: ${at.host}:${at.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    });
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (!upgraded) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const status = buf.subarray(0, buf.indexOf('\r\n')).toString();
        if (!/^HTTP\/1\.1 101/.test(status)) return refuse(new Error(`upgrade refused: ${status}`));
        upgraded = true;
        buf = buf.subarray(end + 4);
        clearTimeout(timer);
        timer = setTimeout(() => done('timeout'), timeoutMs);
        sock.write(frameHeader(declaredBytes));
        sock.write(randomBytes(sentBytes));
      }
      const code = closeCode(buf);
      if (code !== undefined) done(code);
    });
  });
}

/** A masked binary frame's header (FIN, opcode 2) with a 64-bit length, as a client sends it. */
function frameHeader(length: number): Buffer {
  const h = Buffer.alloc(14);
  h[0] = 0x82;
  h[1] = 0x80 | 127;
  h.writeBigUInt64BE(BigInt(length), 2);
  randomBytes(4).copy(h, 10);
  return h;
}

/** The status code of the first close frame among the server's (unmasked) frames in `buf`, if complete. */
function closeCode(buf: Buffer): number | undefined {
  let at = 0;
  while (at + 2 <= buf.length) {
    const opcode = buf[at]! & 0x0f;
    let len = buf[at + 1]! & 0x7f;
    let head = 2;
    if (len === 126) {
      if (at + 4 > buf.length) return undefined;
      len = buf.readUInt16BE(at + 2);
      head = 4;
    } else if (len === 127) {
      if (at + 10 > buf.length) return undefined;
      len = Number(buf.readBigUInt64BE(at + 2));
      head = 10;
    }
    if (at + head + len > buf.length) return undefined;
    if (opcode === 0x8) return len >= 2 ? buf.readUInt16BE(at + head) : 1005;
    at += head + len;
  }
  return undefined;
}
