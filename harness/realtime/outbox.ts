/**
 * Every frame to a client passes here, so the nemesis can pause delivery or add delay while
 * order is kept: frames wait in one FIFO and leave in the order they were sent.
 * With no fault active, frames go straight to the socket with no allocation.
 */
import type { Socket } from 'node:net';
import type { Transport } from './transport.ts';

interface Held {
  ws: Transport;
  frame: Buffer | string;
  binary: boolean;
  due: number;
}

export class Outbox {
  private paused = false;
  private delayMs = 0;
  private readonly queue: Held[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;

  private readonly corked = new Set<Socket>();
  private flushScheduled = false;

  send(ws: Transport, frame: Buffer | string, binary: boolean): void {
    if (!this.paused && this.delayMs === 0 && this.head === this.queue.length) {
      this.write(ws, frame, binary);
      return;
    }
    this.queue.push({ ws, frame, binary, due: Date.now() + this.delayMs });
    this.schedule();
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.drain();
  }

  setDelay(ms: number): void {
    this.delayMs = Math.max(0, ms);
    this.drain();
  }

  get state(): { paused: boolean; delayMs: number; held: number } {
    return { paused: this.paused, delayMs: this.delayMs, held: this.queue.length - this.head };
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
    this.head = 0;
  }

  /**
   * Frames written to one socket within one event-loop turn leave in one system call: the socket
   * is corked at its first frame and uncorked right after the current callback (process.nextTick).
   * A publish burst then costs a write per subscriber, not per subscriber and message.
   */
  private write(ws: Transport, frame: Buffer | string, binary: boolean): void {
    // A socket dropped while its frames were held simply misses them, as a real network would.
    if (ws.readyState !== 1) return;
    // `_socket` is ws's underlying net.Socket (ws 8); without it frames are simply not batched.
    const sock = (ws as unknown as { _socket?: Socket })._socket;
    if (sock && !this.corked.has(sock)) {
      sock.cork();
      this.corked.add(sock);
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        process.nextTick(this.flush);
      }
    }
    ws.send(frame, binary ? BINARY : TEXT);
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    for (const s of this.corked) s.uncork();
    this.corked.clear();
  };

  private schedule(): void {
    if (this.paused || this.timer || this.head === this.queue.length) return;
    const wait = Math.max(0, this.queue[this.head]!.due - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.drain();
    }, wait);
  }

  private drain(): void {
    if (this.paused) return;
    const now = Date.now();
    while (this.head < this.queue.length) {
      const h = this.queue[this.head]!;
      if (h.due > now) break;
      this.head++;
      this.write(h.ws, h.frame, h.binary);
    }
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    } else if (this.head > 4096) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    clearTimeout(this.timer);
    this.timer = undefined;
    this.schedule();
  }
}

const BINARY = { binary: true };
const TEXT = { binary: false };
