/**
 * Durable mode, while this instance is the leader: NOTIFY (or the poll timer) wakes the drain, the
 * drain reads the outbox in commit order and hands publishes to the SDK (many in flight, one
 * connection, so each channel stays in order), and a second connection deletes rows only once
 * the realtime service has acknowledged every publish of them.
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import type { ConnectorConfig, Mapping } from './config.ts';
import type { ConnectorMetrics } from './metrics.ts';
import { OutboxQueries } from './outbox.ts';
import { backoffMs } from './pg.ts';
import { planDrain, type Publish } from './plan.ts';
import type { RealtimePublisher } from './publisher.ts';
import type { SetupResult } from './setup.ts';
import { WAKE_CHANNEL, quoteIdent } from './sql.ts';

export interface WorkerContext {
  cfg: ConnectorConfig;
  setup: SetupResult;
  routes: Map<string, Mapping[]>;
  publisher: RealtimePublisher;
  metrics: ConnectorMetrics;
  log: Logger;
}

export interface Worker {
  /** Resolves after a graceful stop; rejects when the database session is lost. */
  run(): Promise<void>;
  stop(): void;
  fail(err: Error): void;
}

/** A wake-up that is not lost when it fires before anyone waits. */
export class Signal {
  private pending = false;
  private waiter?: () => void;
  notify(): void {
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w();
    } else this.pending = true;
  }
  wait(): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((r) => (this.waiter = r));
  }
}

export class DurableWorker implements Worker {
  private readonly q: OutboxQueries;
  /** Rows read and not yet deleted: in flight, acknowledged awaiting deletion, or to dead-letter. */
  private readonly inHand = new Set<number>();
  /** Per row, publishes still awaiting an ack. */
  private readonly remaining = new Map<number, number>();
  private inflight = 0;
  private readonly ackQueue: number[] = [];
  private readonly deadQueue: Array<{ seq: number; reason: string }> = [];
  private dirty = true;
  private pollDue = true;
  /** After a failed publish: read nothing until every publish in flight settled, then back off. */
  private barrier = false;
  private failures = 0;
  private stopping = false;
  private fatal?: Error;
  private readonly drainSignal = new Signal();
  private readonly ackSignal = new Signal();

  constructor(
    private readonly ctx: WorkerContext,
    private readonly main: pg.Client,
    private readonly acker: pg.Client,
  ) {
    this.q = new OutboxQueries(ctx.setup.names);
  }

  async run(): Promise<void> {
    const schema = this.ctx.setup.names.schema.slice(0, 200);
    this.main.on('notification', (n) => {
      if (n.channel === WAKE_CHANNEL && n.payload === schema) this.wake();
    });
    await this.main.query(`LISTEN ${quoteIdent(WAKE_CHANNEL)}`);
    // The poll catches a lost wake-up and, with the query timeout, notices a dead connection.
    const timer = setInterval(() => {
      this.pollDue = true;
      this.wake();
    }, this.ctx.cfg.timing.pollIntervalMs);
    try {
      await Promise.all([this.drainLoop(), this.ackLoop()]);
    } finally {
      clearInterval(timer);
      this.main.removeAllListeners('notification');
    }
    if (this.fatal) throw this.fatal;
  }

  stop(): void {
    this.stopping = true;
    this.drainSignal.notify();
    this.ackSignal.notify();
  }

  fail(err: Error): void {
    this.fatal ??= err;
    this.stop();
  }

  private wake(): void {
    this.dirty = true;
    this.drainSignal.notify();
  }

  private async drainLoop(): Promise<void> {
    const { batch } = this.ctx.cfg;
    while (!this.stopping) {
      try {
        if (this.pollDue) {
          this.pollDue = false;
          this.ctx.metrics.backlog(await this.q.backlog(this.main));
        }
        if (this.dirty && !this.barrier && this.inflight < batch.maxInFlight) {
          this.dirty = false;
          await this.readAndPublish(batch.drainLimit);
          continue;
        }
      } catch (err) {
        this.fail(err as Error);
        return;
      }
      await this.drainSignal.wait();
    }
  }

  private async readAndPublish(limit: number): Promise<void> {
    const { cfg, metrics, log, publisher, setup } = this.ctx;
    const rows = await this.q.fetch(this.main, [...this.inHand], limit);
    if (rows.length === 0) return;
    const truncated = rows.length === limit;
    if (truncated) this.dirty = true;
    metrics.seen(rows.length);
    const plan = planDrain(rows, {
      outboxId: setup.outboxId,
      routes: this.ctx.routes,
      messageName: cfg.messageName,
      maxMessages: cfg.batch.maxMessages,
      maxMessageSize: publisher.maxMessageSize(),
      truncated,
    });
    for (const r of plan.rejected) {
      log.error({ seq: r.seq }, `change not publishable, moved to ably_outbox_dead: ${r.reason}`);
      metrics.error(r.reason.includes('exceeds the realtime limit') ? 'too_large' : 'no_channel');
      this.inHand.add(r.seq);
      this.deadQueue.push(r);
    }
    if (plan.unmapped.length) {
      log.warn({ seqs: plan.unmapped.slice(0, 20) }, 'outbox rows for tables or operations no longer configured: dropped');
      metrics.error('unmapped', plan.unmapped.length);
      for (const s of plan.unmapped) this.inHand.add(s);
      this.ackQueue.push(...plan.unmapped);
    }
    if (plan.rejected.length || plan.unmapped.length) this.ackSignal.notify();
    for (const p of plan.publishes) this.send(p);
  }

  private send(p: Publish): void {
    for (const s of p.seqs) {
      this.inHand.add(s);
      this.remaining.set(s, (this.remaining.get(s) ?? 0) + 1);
    }
    this.inflight++;
    this.ctx.metrics.published(p.messages.length);
    this.ctx.publisher.publish(p.channel, p.messages).then(
      () => this.onAck(p),
      (err: unknown) => this.onNack(p, err),
    );
  }

  private onAck(p: Publish): void {
    this.inflight--;
    this.failures = 0;
    this.ctx.metrics.acknowledged(p.messages.length, p.committedMs);
    for (const s of p.seqs) {
      const left = (this.remaining.get(s) ?? 0) - 1;
      if (left > 0) this.remaining.set(s, left);
      else if (this.remaining.delete(s)) this.ackQueue.push(s);
    }
    this.ackSignal.notify();
    this.afterSettle();
  }

  private onNack(p: Publish, err: unknown): void {
    this.inflight--;
    const e = err as { code?: number; message?: string };
    const { metrics, log } = this.ctx;
    if (e.code === 40009) {
      for (const s of p.seqs) {
        this.remaining.delete(s);
        const reason = `${p.channel}: outbox seq ${s} refused by the realtime service as too large: ${e.message ?? ''}`;
        log.error({ seq: s }, `change not publishable, moved to ably_outbox_dead: ${reason}`);
        metrics.error('too_large');
        this.deadQueue.push({ seq: s, reason });
      }
      this.ackSignal.notify();
    } else {
      metrics.error('publish');
      log.warn({ channel: p.channel, code: e.code, err: e.message }, 'publish failed; will re-read and re-send');
      // Forget the rows: the next read finds them again, and their ids make the re-send idempotent.
      for (const s of p.seqs) {
        this.remaining.delete(s);
        this.inHand.delete(s);
      }
      this.barrier = true;
    }
    this.afterSettle();
  }

  private afterSettle(): void {
    if (this.barrier && this.inflight === 0) {
      const wait = backoffMs(this.failures++, this.ctx.cfg.timing.reconnectMinMs, this.ctx.cfg.timing.reconnectMaxMs);
      setTimeout(() => {
        this.barrier = false;
        this.wake();
      }, wait).unref();
    }
    // A read that waited for room in flight may go now.
    this.drainSignal.notify();
    if (this.stopping && this.inflight === 0) this.ackSignal.notify();
  }

  private async ackLoop(): Promise<void> {
    for (;;) {
      if (this.fatal) return;
      try {
        const dead = this.deadQueue.shift();
        if (dead) {
          await this.q.deadLetter(this.acker, dead.seq, dead.reason);
          this.inHand.delete(dead.seq);
          this.ctx.metrics.deadLettered++;
          continue;
        }
        if (this.ackQueue.length) {
          const seqs = this.ackQueue.splice(0);
          await this.q.ack(this.acker, seqs);
          for (const s of seqs) this.inHand.delete(s);
          continue;
        }
      } catch (err) {
        this.fail(err as Error);
        return;
      }
      if (this.stopping && this.inflight === 0) return;
      await this.ackSignal.wait();
    }
  }

  /** Publishes still awaiting an ack (graceful stop waits for these). */
  get inFlight(): number {
    return this.inflight;
  }
}
