/**
 * One channel: its ordered history (the source for resume replay, rewind and REST history),
 * the attachments that receive its messages, its presence set and its idempotency window.
 */
import type { Format } from './protocol/constants.ts';
import { messageSize, type Data, type StoredMessage } from './protocol/payload.ts';

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
  /** Per channel: the retained messages' bytes (as `recordBytes` counts them), and the presence log's, each. */
  historyMaxBytes: number;
  idempotencyWindowMs: number;
}

/** Why a record left a channel's history before anyone asked for it. */
export type EvictionReason = 'age' | 'count' | 'bytes';
export type EvictionListener = (reason: EvictionReason, records: number) => void;

/** Ids, serials and the record's own fields, which messageSize leaves out, are counted flat. */
const RECORD_OVERHEAD = 96;
const MESSAGE_OVERHEAD = 96;

/** A record's retained size: Ably's message size of each message plus a flat allowance for its ids. */
export function recordBytes(messages: readonly StoredMessage[]): number {
  let n = RECORD_OVERHEAD;
  for (const m of messages) n += MESSAGE_OVERHEAD + messageSize(m);
  return n;
}

export class Channel {
  private seq = 0;
  private records: PublishRecord[] = [];
  /** Retained size of each record, parallel to `records`. */
  private sizes: number[] = [];
  private head = 0;
  /** Bytes of the retained records (from `head` on) and of the presence log. */
  private retainedBytes = 0;
  /** Bytes of evicted records still referenced from `records` (before `head`) until the next compaction. */
  private deadBytes = 0;
  private presenceBytes = 0;
  private readonly presenceSizes: number[] = [];
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
    private readonly onEvict: EvictionListener = () => {},
  ) {}

  /** What this channel's history holds in memory now (messages and presence events). */
  get historyBytes(): number {
    return this.retainedBytes + this.presenceBytes;
  }

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
    const size = recordBytes(rec.messages);
    this.records.push(rec);
    this.sizes.push(size);
    this.retainedBytes += size;
    this.trim(rec.timestamp);
  }

  trim(now: number): void {
    const oldest = now - this.retention.historyTtlMs;
    const { historyMaxRecords: max, historyMaxBytes: maxBytes } = this.retention;
    // The newest record always stays: it is where a resume or rewind continues from.
    while (this.head < this.records.length) {
      const r = this.records[this.head]!;
      const reason: EvictionReason | undefined =
        r.timestamp < oldest ? 'age' : this.records.length - this.head > max ? 'count' : this.retainedBytes > maxBytes && this.head < this.records.length - 1 ? 'bytes' : undefined;
      if (!reason) break;
      if (this.versions.size) for (const m of r.messages) this.versions.delete(m.serial);
      this.retainedBytes -= this.sizes[this.head]!;
      this.deadBytes += this.sizes[this.head]!;
      this.head++;
      this.onEvict(reason, 1);
    }
    // Compact occasionally so trimming stays O(1) amortised, and soon enough that evicted records
    // do not stay referenced: each compaction frees at least a quarter of the byte budget or half the array.
    if ((this.head > 1024 && this.head * 2 > this.records.length) || this.deadBytes > maxBytes / 4) {
      this.records = this.records.slice(this.head);
      this.sizes = this.sizes.slice(this.head);
      this.head = 0;
      this.deadBytes = 0;
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
    for (const e of events) {
      const size = MESSAGE_OVERHEAD + messageSize({ clientId: e.member.clientId, data: e.member.data ?? null, extras: e.member.extras });
      this.presenceLog.push(e);
      this.presenceSizes.push(size);
      this.presenceBytes += size;
    }
    const oldest = now - this.retention.historyTtlMs;
    const { historyMaxRecords: max, historyMaxBytes: maxBytes } = this.retention;
    let drop = 0;
    while (drop < this.presenceLog.length) {
      const left = this.presenceLog.length - drop;
      const reason: EvictionReason | undefined =
        this.presenceLog[drop]!.member.timestamp < oldest ? 'age' : left > max ? 'count' : this.presenceBytes > maxBytes && left > 1 ? 'bytes' : undefined;
      if (!reason) break;
      this.presenceBytes -= this.presenceSizes[drop]!;
      drop++;
      this.onEvict(reason, 1);
    }
    if (drop) {
      this.presenceLog.splice(0, drop);
      this.presenceSizes.splice(0, drop);
    }
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
