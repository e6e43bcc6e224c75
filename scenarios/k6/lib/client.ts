/**
 * A minimal Ably realtime client over any text WebSocket: it is told each received frame and
 * given a function to send one, so the same code runs on k6's WebSocket and on Node's `ws`.
 * It keeps what the protocol needs (msgSerial, pending publishes, attachments) and reports
 * what happened through callbacks; it never waits or sleeps itself.
 */
import {
  Action,
  attachFrame,
  authFrame,
  changeFromMessage,
  closeFrame,
  heartbeatFrame,
  messageFrame,
  parseFrame,
  receivedMessages,
  type ChangeEvent,
  type ErrorInfo,
  type InboundFrame,
  type OutboundMessage,
} from './protocol.ts';

export interface PendingPublish<T> {
  msgSerial: number;
  sentAt: number;
  tag: T;
}

export interface ClientEvents<T> {
  connected?(connectionId: string): void;
  attached?(channel: string): void;
  ack?(p: PendingPublish<T>): void;
  nack?(p: PendingPublish<T>, error: ErrorInfo): void;
  /** A connector event received on a channel the client attached. */
  change?(channel: string, change: ChangeEvent): void;
  /** The service asks for a new token (AUTH); answer with `reauthorize`. */
  authRequested?(): void;
  /** `fatal`: the connection is unusable (connection-level ERROR, DISCONNECTED, bad frame). */
  error?(error: ErrorInfo, fatal: boolean, channel?: string): void;
}

export type ClientState = 'connecting' | 'connected' | 'closing' | 'closed' | 'failed';

/**
 * How a client reads frames: a process that runs many clients on one channel receives the same
 * frame text once per client, and may decode it once for all of them (the changes it hands out
 * are then shared and must not be changed).
 */
export interface FrameDecoder {
  frame(text: string): InboundFrame | { invalid: string };
  changes(f: InboundFrame): readonly ChangeEvent[];
}

/** Each frame decoded for its own client, as k6 runs it (one client per VU). */
export const ownDecoder: FrameDecoder = {
  frame: parseFrame,
  changes(f) {
    const out: ChangeEvent[] = [];
    for (const m of receivedMessages(f)) {
      const change = changeFromMessage(m);
      if (change) out.push(change);
    }
    return out;
  },
};

export class RealtimeClient<T> {
  state: ClientState = 'connecting';
  connectionId = '';
  private nextSerial = 0;
  private readonly pending = new Map<number, PendingPublish<T>>();
  private readonly attached = new Set<string>();

  constructor(
    private readonly send: (text: string) => void,
    private readonly now: () => number,
    private readonly on: ClientEvents<T>,
    private readonly decoder: FrameDecoder = ownDecoder,
  ) {}

  get inFlight(): number {
    return this.pending.size;
  }

  isAttached(channel: string): boolean {
    return this.attached.has(channel);
  }

  attach(channel: string, modes?: number): void {
    this.send(attachFrame(channel, modes));
  }

  /** Sends one MESSAGE frame; the ACK or NACK for its msgSerial settles it. */
  publish(channel: string, messages: readonly OutboundMessage[], tag: T): PendingPublish<T> {
    const p: PendingPublish<T> = { msgSerial: this.nextSerial++, sentAt: this.now(), tag };
    this.pending.set(p.msgSerial, p);
    this.send(messageFrame(channel, p.msgSerial, messages));
    return p;
  }

  /** Removes and returns publishes not settled within `timeoutMs`. */
  expire(timeoutMs: number): PendingPublish<T>[] {
    const limit = this.now() - timeoutMs;
    const out: PendingPublish<T>[] = [];
    for (const p of this.pending.values()) if (p.sentAt <= limit) out.push(p);
    for (const p of out) this.pending.delete(p.msgSerial);
    return out;
  }

  reauthorize(accessToken: string): void {
    this.send(authFrame(accessToken));
  }

  close(): void {
    if (this.state === 'connected' || this.state === 'connecting') {
      this.state = 'closing';
      this.send(closeFrame());
    }
  }

  receive(text: string): void {
    const f = this.decoder.frame(text);
    if ('invalid' in f) {
      this.fail({ code: 40000, message: `invalid frame from the service: ${f.invalid}` });
      return;
    }
    switch (f.action) {
      case Action.CONNECTED:
        this.state = 'connected';
        this.connectionId = f.connectionId ?? '';
        // A CONNECTED carrying an error means a resume failed; this client never resumes.
        if (f.error) this.on.error?.(f.error, false);
        this.on.connected?.(this.connectionId);
        return;
      case Action.HEARTBEAT:
        if (f.id) this.send(heartbeatFrame(f.id));
        return;
      case Action.ATTACHED:
        if (f.channel && !this.attached.has(f.channel)) {
          this.attached.add(f.channel);
          this.on.attached?.(f.channel);
        }
        return;
      case Action.DETACHED:
        if (f.channel) this.attached.delete(f.channel);
        if (f.error) this.on.error?.(f.error, false, f.channel);
        return;
      case Action.ACK:
      case Action.NACK:
        return this.settle(f);
      case Action.MESSAGE:
        return this.deliver(f);
      case Action.AUTH:
        this.on.authRequested?.();
        return;
      case Action.ERROR:
        if (f.channel) {
          this.attached.delete(f.channel);
          this.on.error?.(f.error ?? { code: 0, message: 'channel error' }, false, f.channel);
        } else this.fail(f.error ?? { code: 0, message: 'connection error' });
        return;
      case Action.DISCONNECTED:
        this.fail(f.error ?? { code: 80003, message: 'disconnected by the service' });
        return;
      case Action.CLOSED:
        this.state = 'closed';
        return;
      default:
        // PRESENCE, SYNC and others carry nothing this client uses.
        return;
    }
  }

  private settle(f: InboundFrame): void {
    const first = f.msgSerial ?? -1;
    const count = f.count ?? 1;
    for (let s = first; s < first + count; s++) {
      const p = this.pending.get(s);
      if (!p) continue;
      this.pending.delete(s);
      if (f.action === Action.ACK) this.on.ack?.(p);
      else this.on.nack?.(p, f.error ?? { code: 0, message: 'NACK without error' });
    }
  }

  private deliver(f: InboundFrame): void {
    const channel = f.channel ?? '';
    if (!this.attached.has(channel)) return;
    for (const change of this.decoder.changes(f)) this.on.change?.(channel, change);
  }

  private fail(error: ErrorInfo): void {
    if (this.state === 'closed' || this.state === 'failed') return;
    this.state = 'failed';
    this.on.error?.(error, true);
  }
}
