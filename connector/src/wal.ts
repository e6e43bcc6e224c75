/**
 * WAL mode, while this instance is the leader: reads the slot's pgoutput stream and publishes
 * each transaction's changes as it commits. Writers pay nothing beyond their own WAL.
 *
 * Postgres streams whole transactions in commit order, and one WebSocket carries the publishes in
 * call order, so each channel keeps commit order. The slot's confirmed position moves past a
 * transaction only once every publish of it (and of every earlier one) was acknowledged: a crash
 * makes Postgres stream again whatever was not confirmed, and ids derived from the transaction's
 * commit position and the change's place in it make those re-sends idempotent.
 *
 * The stream (wal-stream.ts) and the decoding (wal-decode.ts) are ours and lean: the consumer
 * runs on the cores the writers use, so its CPU per change is what the writers lose.
 */
import type pg from 'pg';
import type { OutboxRow } from './outbox.ts';
import { planDrain, type Publish } from './plan.ts';
import { Signal } from './signal.ts';
import { formatLsn, parseLsn } from './lsn.ts';
import { PgoutputDecoder, type Operation } from './wal-decode.ts';
import { ReplicationStream } from './wal-stream.ts';
import type { Worker, WorkerContext } from './worker.ts';

/** Confirmations gathered over this long go out as one status update. */
const STATUS_GATHER_MS = 10;
/**
 * How often the worker learns where the server's WAL ends and pings the stream (whose keepalive
 * answer says how far decoding got): together they tell "caught up" from "not yet streamed".
 */
const PROGRESS_MS = 100;

interface OpenTx {
  commitMs: number;
  rows: OutboxRow[];
}

interface PendingTx {
  endLsn: bigint;
  commitMs: number;
  remaining: number;
}

export class WalWorker implements Worker {
  private stopping = false;
  private fatal?: Error;
  private readonly signal = new Signal();
  private stream?: ReplicationStream;
  private tx?: OpenTx;
  /** Transactions received and not yet wholly acknowledged, in commit order. */
  private readonly queue: PendingTx[] = [];
  private confirmed = 0n;
  private sentConfirmed = -1n;
  /** How far the stream has brought us (commits and keepalives), and the server's flushed WAL end lately. */
  private received = 0n;
  private target = 0n;
  private sampling = false;
  private statusTimer?: NodeJS.Timeout;
  private inflight = 0;
  private paused = false;
  private lastHeard = performance.now();

  constructor(
    private readonly ctx: WorkerContext,
    private readonly main: pg.Client,
  ) {}

  /** Age of the oldest change received and not yet acknowledged (0 when caught up). */
  lagSeconds(now = Date.now()): number {
    const oldest = this.queue[0]?.commitMs ?? this.tx?.commitMs;
    return oldest === undefined ? 0 : Math.max(0, now - oldest) / 1000;
  }

  async run(): Promise<void> {
    const { cfg, setup } = this.ctx;
    const wal = setup.wal!;
    // Unknown until the stream has caught up: never report drained before.
    this.ctx.metrics.backlog(1);
    await this.takeSlot(wal.slot);
    // Behind until the stream has brought us to the WAL end as of now (see backlog()).
    await this.sampleTarget();
    const { queryTimeoutMs, pollIntervalMs } = cfg.timing;
    const stream = new ReplicationStream({ ...cfg.db, application_name: 'ably-connector wal', keepAlive: true, connectionTimeoutMillis: queryTimeoutMs });
    this.stream = stream;
    stream.onError((err) => this.fail(err));
    const decoder = new PgoutputDecoder({
      begin: (commitMs) => this.begin(commitMs),
      change: (relation, operation, row) => this.add(relation, operation, row),
      commit: (commitLsn, endLsn) => this.commit(commitLsn, endLsn),
    });
    const onMessage = (buf: Buffer, at: number): void => {
      this.lastHeard = performance.now();
      try {
        decoder.decode(buf, at);
      } catch (err) {
        this.fail(err as Error);
      }
    };
    stream
      .start({ slot: wal.slot, publication: wal.publication }, { message: onMessage, keepalive: (walEnd, reply) => this.onHeartbeat(walEnd, reply) })
      .then(({ ended }) => ended)
      .then(
        () => this.fail(new Error('replication stream ended')),
        (err: Error) => this.fail(err),
      );
    // Each ping makes the server answer with a keepalive: silence means a dead stream.
    const timer = setInterval(() => {
      if (!this.paused && performance.now() - this.lastHeard > queryTimeoutMs + pollIntervalMs) {
        this.fail(new Error(`replication stream silent for ${queryTimeoutMs + pollIntervalMs} ms`));
        return;
      }
      void this.sampleTarget();
      // Before anything is confirmed this sends position 0, which the server ignores.
      this.status(true);
    }, PROGRESS_MS);
    try {
      while (!(this.stopping && this.inflight === 0) && !this.fatal) await this.signal.wait();
      if (!this.fatal) this.sendStatus();
    } finally {
      clearInterval(timer);
      clearTimeout(this.statusTimer);
      await stream.stop();
    }
    if (this.fatal) throw this.fatal;
  }

  /** Reads the server's flushed WAL end; the stream is behind until it has brought us that far. */
  private sampleTarget(): Promise<void> {
    if (this.sampling) return Promise.resolve();
    this.sampling = true;
    return this.main
      .query<{ lsn: string }>('SELECT pg_current_wal_flush_lsn()::text AS lsn')
      .then((r) => {
        const at = parseLsn(r.rows[0]!.lsn);
        if (at > this.target) this.target = at;
        this.backlog();
      }, (err: Error) => this.fail(err))
      .finally(() => (this.sampling = false));
  }

  stop(): void {
    this.stopping = true;
    this.signal.notify();
  }

  fail(err: Error): void {
    if (this.stopping && this.inflight === 0) return;
    this.fatal ??= err;
    this.signal.notify();
  }

  /**
   * We hold the leader lock, so a walsender still on the slot serves a predecessor that lost it
   * (killed, partitioned): end it rather than wait for Postgres to notice its dead socket.
   */
  private async takeSlot(slot: string): Promise<void> {
    const deadline = Date.now() + this.ctx.cfg.timing.queryTimeoutMs;
    for (;;) {
      const r = await this.main.query<{ pid: number | null }>('SELECT active_pid AS pid FROM pg_replication_slots WHERE slot_name = $1', [slot]);
      if (!r.rows[0]) throw new Error(`replication slot ${slot} is gone (dropped while the connector ran?)`);
      const pid = r.rows[0].pid;
      if (pid === null) return;
      if (Date.now() > deadline) throw new Error(`replication slot ${slot} still in use by backend ${pid}`);
      this.ctx.log.warn({ slot, pid }, 'ending the previous leader\'s replication connection');
      await this.main.query('SELECT pg_terminate_backend($1)', [pid]);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  private begin(commitMs: number): void {
    this.tx = { commitMs, rows: [] };
  }

  private add(relation: string, operation: Operation, row: Record<string, unknown>): void {
    const tx = this.tx;
    if (!tx) return this.fail(new Error(`${operation} on ${relation} outside a transaction`));
    tx.rows.push({ seq: tx.rows.length, tablename: relation, operation, row, commitSeq: null, committedMs: tx.commitMs });
  }

  private commit(commitLsn: bigint, endLsn: bigint): void {
    const tx = this.tx;
    this.tx = undefined;
    if (endLsn > this.received) this.received = endLsn;
    if (!tx) return;
    const { ctx } = this;
    // The rows are ours alone: numbered in place rather than copied.
    const rows = tx.rows;
    for (const r of rows) r.commitSeq = Number(commitLsn);
    const plan = planDrain(rows, {
      outboxId: `${ctx.setup.outboxId}:w${commitLsn.toString(16)}`,
      routes: ctx.routes,
      messageName: ctx.cfg.messageName,
      maxMessages: ctx.cfg.batch.maxMessages,
      maxMessageSize: ctx.publisher.maxMessageSize(),
      truncated: false,
    });
    ctx.metrics.seen(rows.length - plan.unmapped.length);
    for (const r of plan.rejected) {
      ctx.metrics.error(r.reason.includes('exceeds') ? 'too_large' : 'no_channel');
      ctx.log.error(`change not publishable, skipped: ${r.reason.replace('outbox seq', `transaction ${formatLsn(commitLsn)} change`)}`);
    }
    const pending: PendingTx = { endLsn, commitMs: tx.commitMs, remaining: plan.publishes.length };
    this.queue.push(pending);
    for (const p of plan.publishes) this.publish(p, pending);
    // Once per transaction rather than per publish (it also applies back-pressure).
    this.advance();
  }

  private publish(p: Publish, tx: PendingTx): void {
    const { metrics, publisher, log } = this.ctx;
    this.inflight++;
    metrics.published(p.messages.length);
    publisher.publish(p.channel, p.messages).then(
      () => {
        this.inflight--;
        metrics.acknowledged(p.messages.length, p.committedMs);
        tx.remaining--;
        this.advance();
        this.signal.notify();
      },
      (err: { code?: number; message?: string }) => {
        this.inflight--;
        metrics.error('publish');
        log.warn({ channel: p.channel, code: err.code }, `publish failed: ${err.message}; the slot streams it again`);
        // Not confirmed, so a new stream sends this transaction again, in order, with the same ids.
        this.fail(new Error(`publish failed on ${p.channel}: ${err.message}`));
      },
    );
  }

  private advance(): void {
    let moved = false;
    while (this.queue[0] && this.queue[0].remaining === 0) {
      this.confirmed = this.queue.shift()!.endLsn;
      moved = true;
    }
    this.backlog();
    if (moved) this.scheduleStatus();
  }

  /**
   * Publishes awaiting their ack, plus one while the stream has not yet brought us to the WAL end
   * last sampled: a restarted or lagging instance must not look drained before it has read the slot.
   */
  private backlog(): void {
    this.ctx.metrics.backlog(this.inflight + (this.received < this.target || this.tx ? 1 : 0));
    const limit = this.ctx.cfg.batch.maxInFlight;
    if (!this.paused && this.inflight >= limit) this.setPaused(true);
    else if (this.paused && this.inflight < limit / 2) this.setPaused(false);
  }

  /** Back-pressure: stop reading the socket while too many publishes await their ack. */
  private setPaused(on: boolean): void {
    const stream = this.stream;
    if (!stream) return;
    this.paused = on;
    if (on) stream.pause();
    else {
      this.lastHeard = performance.now();
      stream.resume();
    }
  }

  private onHeartbeat(sent: bigint, respond: boolean): void {
    this.lastHeard = performance.now();
    if (sent > this.received) this.received = sent;
    this.backlog();
    // Everything sent before this keepalive is handled: the slot may move up to it (else WAL of
    // other databases and tables would count as lag and be kept for nothing).
    if (!this.tx && this.queue.length === 0 && sent > this.confirmed) this.confirmed = sent;
    if (respond) this.sendStatus();
    else if (this.confirmed > this.sentConfirmed) this.scheduleStatus();
  }

  private scheduleStatus(): void {
    this.statusTimer ??= setTimeout(() => this.sendStatus(), STATUS_GATHER_MS);
  }

  private sendStatus(): void {
    clearTimeout(this.statusTimer);
    this.statusTimer = undefined;
    if (this.confirmed === 0n) return;
    this.status(false);
  }

  private status(reply: boolean): void {
    if (!this.stream) return;
    this.sentConfirmed = this.confirmed;
    try {
      this.stream.sendStatus(this.confirmed, reply);
    } catch (err) {
      this.fail(err as Error);
    }
  }
}
