/**
 * The replication connection: START_REPLICATION on a pg client opened with
 * `replication=database`, the raw CopyBoth frames handed over as they arrive, and standby status
 * updates sent as we decide.
 *
 * Why not pg-logical-replication any more: it formats every frame's position as a string, parses
 * every message into objects (BigInt times, type parsers), emits it through an event emitter and
 * starts an async acknowledgement per message even when acknowledging is off. At thousands of
 * changes a second that was most of the consumer's CPU, on cores the writers share. What it did
 * beyond that is the few lines below; `pg` has no public API for CopyBoth, so, as that client did,
 * this reads the connection's frames and writes status updates through `pg`'s own connection.
 */
import pg from 'pg';
import { formatLsn } from './lsn.ts';

/** Milliseconds between the Unix epoch and Postgres's (2000-01-01). */
const PG_EPOCH_MS = 946_684_800_000;

export interface StreamHandlers {
  /** One pgoutput message: `buf` from `offset` to its end. */
  message(buf: Buffer, offset: number): void;
  /** The server's position as of a keepalive; `reply` when it asks for a status update now. */
  keepalive(walEnd: bigint, reply: boolean): void;
}

interface Connection {
  on(event: 'copyData', fn: (msg: { chunk: Buffer }) => void): void;
  once(event: 'replicationStart', fn: () => void): void;
  sendCopyFromChunk(chunk: Buffer): void;
  stream?: { pause(): void; resume(): void; destroy(): void };
}

export interface StreamOptions {
  slot: string;
  publication: string;
  /** Where to start: the slot's confirmed position when 0. */
  from?: bigint;
}

export class ReplicationStream {
  private readonly client: pg.Client;
  private readonly status = Buffer.alloc(34);
  /** Status updates are frames of the CopyBoth stream: none before it starts or after it ends. */
  private streaming = false;

  constructor(config: pg.ClientConfig) {
    this.client = new pg.Client({ ...config, replication: 'database' } as pg.ClientConfig);
  }

  private get connection(): Connection {
    return (this.client as unknown as { connection: Connection }).connection;
  }

  onError(fn: (err: Error) => void): void {
    this.client.on('error', fn);
  }

  /**
   * Connects and starts streaming; `ended` settles when the server ends the stream (resolves) or
   * it fails (rejects).
   */
  async start(o: StreamOptions, h: StreamHandlers): Promise<{ ended: Promise<void> }> {
    await this.client.connect();
    this.connection.once('replicationStart', () => (this.streaming = true));
    this.connection.on('copyData', ({ chunk }) => {
      const tag = chunk[0];
      // XLogData: 'w', start, end, send time (8 bytes each), then the pgoutput message.
      if (tag === 0x77) h.message(chunk, 25);
      // Primary keepalive: 'k', WAL end, send time, reply requested.
      else if (tag === 0x6b) h.keepalive(chunk.readBigUInt64BE(1), chunk[17] === 1);
    });
    const from = formatLsn(o.from ?? 0n);
    const sql = `START_REPLICATION SLOT "${o.slot}" LOGICAL ${from} (proto_version '1', publication_names '${o.publication.replace(/'/g, "''")}')`;
    return { ended: this.client.query(sql).then(() => undefined) };
  }

  /**
   * A standby status update. Positions are ends (the first byte not covered): `flushed` is what
   * the slot may confirm; `reply` asks the server to answer with a keepalive at once.
   */
  sendStatus(flushed: bigint, reply: boolean): void {
    if (!this.streaming) return;
    const b = this.status;
    b[0] = 0x72; // 'r'
    b.writeBigUInt64BE(flushed, 1); // written
    b.writeBigUInt64BE(flushed, 9); // flushed
    b.writeBigUInt64BE(flushed, 17); // applied
    b.writeBigInt64BE(BigInt(Math.round((Date.now() - PG_EPOCH_MS) * 1000)), 25);
    b[33] = reply ? 1 : 0;
    // serialize.copyData copies it into a frame of its own, so the buffer can be reused.
    this.connection.sendCopyFromChunk(b);
  }

  pause(): void {
    this.connection.stream?.pause();
  }

  resume(): void {
    this.connection.stream?.resume();
  }

  /** Ends the connection; a peer that never answers (dead, partitioned) gets its socket dropped after a second. */
  async stop(): Promise<void> {
    this.streaming = false;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.client.end().catch(() => undefined), new Promise((r) => (timer = setTimeout(r, 1000)))]);
    clearTimeout(timer);
    this.connection.stream?.destroy();
    this.client.removeAllListeners();
  }
}
