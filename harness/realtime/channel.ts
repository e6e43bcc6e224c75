/**
 * One channel: its ordered history (the source for resume replay, rewind and REST history),
 * the attachments that receive its messages, its presence set and its idempotency window.
 */
import type { Format } from './protocol/constants.ts';
import type { Data, StoredMessage } from './protocol/payload.ts';

export interface PublishRecord {
  seq: number;
  channelSerial: string;
  /** Protocol message id: "connectionId:msgSerial" for realtime, the id base for REST. */
  id: string;
  connectionId?: string;
  timestamp: number;
  messages: StoredMessage[];
}

/** What a channel needs from a connection to deliver to it. */
export interface Recipient {
  readonly id: string;
  readonly format: Format;
  readonly echo: boolean;
  sendFrame(frame: Buffer): void;
  /** A message frame for one attachment: may be dropped for a slow consumer (then a continuity loss follows). */
  deliver(sub: Subscriber, frame: Buffer): boolean;
}

/** One attachment of a connection to a channel, under the name the client used (may carry a `[?params]` qualifier). */
export interface Subscriber {
  readonly conn: Recipient;
  readonly clientName: string;
  modes: number;
  /** The modes the client asked for (flags or the `modes` param); undefined when it took the defaults. */
  requested?: number;
  /** False while a resumed connection has not re-attached yet: replay then covers the gap. */
  live: boolean;
  /** A subscription filter (the `filter` channel param): only messages it accepts are delivered. */
  filter?: (m: StoredMessage) => boolean;
  /** `delta: 'vcdiff'` was asked for: messages after the first go as deltas against this, the last one delivered. */
  delta?: { base?: { id: string; bytes: Buffer } };
}

export interface PresenceMember {
  clientId: string;
  connectionId: string;
  id: string;
  data?: Data;
  encoding?: string;
  extras?: unknown;
  timestamp: number;
}

export interface RetentionOptions {
  historyTtlMs: number;
  historyMaxRecords: number;
  idempotencyWindowMs: number;
}

export class Channel {
  private seq = 0;
  private records: PublishRecord[] = [];
  private head = 0;
  private readonly recentIds = new Map<string, number>();
  readonly subscribers = new Set<Subscriber>();
  readonly presence = new Map<string, PresenceMember>();
  /** Presence events, oldest first, for REST presence history; kept as long as messages are. */
  readonly presenceLog: { action: number; member: PresenceMember }[] = [];
  /** Updates, deletes and appends of a message, oldest first, by the serial of the message they change. */
  readonly versions = new Map<string, StoredMessage[]>();

  constructor(
    readonly name: string,
    private readonly epoch: string,
    private readonly retention: RetentionOptions,
  ) {}

  serialOf(seq: number): string {
    return `${this.epoch}:${seq.toString().padStart(12, '0')}`;
  }

  /** The serial of the newest record (or of "nothing yet"): where an attach starts from. */
  lastSerial(): string {
    return this.serialOf(this.seq);
  }

  nextSeq(): number {
    return ++this.seq;
  }

  append(rec: PublishRecord): void {
    this.records.push(rec);
    this.trim(rec.timestamp);
  }

  trim(now: number): void {
    const oldest = now - this.retention.historyTtlMs;
    const max = this.retention.historyMaxRecords;
    while (this.head < this.records.length) {
      const r = this.records[this.head]!;
      if (r.timestamp >= oldest && this.records.length - this.head <= max) break;
      if (this.versions.size) for (const m of r.messages) this.versions.delete(m.serial);
      this.head++;
    }
    // Compact occasionally so trimming stays O(1) amortised.
    if (this.head > 1024 && this.head * 2 > this.records.length) {
      this.records = this.records.slice(this.head);
      this.head = 0;
    }
    if (this.recentIds.size) {
      const cutoff = now - this.retention.idempotencyWindowMs;
      for (const [id, t] of this.recentIds) {
        if (t >= cutoff) break;
        this.recentIds.delete(id);
      }
    }
  }

  recordPresence(events: readonly { action: number; member: PresenceMember }[], now: number): void {
    this.presenceLog.push(...events);
    const oldest = now - this.retention.historyTtlMs;
    let drop = 0;
    while (drop < this.presenceLog.length && (this.presenceLog[drop]!.member.timestamp < oldest || this.presenceLog.length - drop > this.retention.historyMaxRecords)) drop++;
    if (drop) this.presenceLog.splice(0, drop);
  }

  /** Records in publish order (oldest first). */
  history(): readonly PublishRecord[] {
    return this.head === 0 ? this.records : this.records.slice(this.head);
  }

  /**
   * Records published after `serial`, or undefined when continuity cannot be proven
   * (a serial from another server run, or older than what is retained).
   */
  since(serial: string): PublishRecord[] | undefined {
    const seq = this.parseSerial(serial);
    if (seq === undefined || seq > this.seq) return undefined;
    const first = this.records[this.head];
    if (first && seq < first.seq - 1) return undefined;
    if (!first && seq < this.seq) return undefined;
    const out: PublishRecord[] = [];
    for (let i = this.records.length - 1; i >= this.head; i--) {
      const r = this.records[i]!;
      if (r.seq <= seq) break;
      out.push(r);
    }
    return out.reverse();
  }

  /** The message as first published under `serial` ("<channel serial>:<index>"), if still retained. */
  original(serial: string): StoredMessage | undefined {
    const i = serial.lastIndexOf(':');
    const seq = i < 0 ? undefined : this.parseSerial(serial.slice(0, i));
    if (seq === undefined) return undefined;
    let lo = this.head;
    let hi = this.records.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = this.records[mid]!;
      if (r.seq === seq) return r.messages.find((m) => m.serial === serial && m.action === undefined);
      if (r.seq < seq) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  parseSerial(serial: string): number | undefined {
    const i = serial.lastIndexOf(':');
    if (i < 0 || serial.slice(0, i) !== this.epoch) return undefined;
    const n = Number(serial.slice(i + 1));
    return Number.isSafeInteger(n) ? n : undefined;
  }

  isDuplicateId(id: string): boolean {
    return this.recentIds.has(id);
  }

  rememberId(id: string, now: number): void {
    this.recentIds.set(id, now);
  }

  /** Nothing would be lost by forgetting this channel. */
  isIdle(now: number): boolean {
    this.trim(now);
    return this.subscribers.size === 0 && this.presence.size === 0 && this.head >= this.records.length && this.recentIds.size === 0;
  }
}
