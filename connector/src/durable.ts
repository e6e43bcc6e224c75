/**
 * Durable mode, while this instance is the leader. Reads take the outbox in commit order and hand
 * publishes to the SDK (many in flight, one connection, so each channel stays in order); a second
 * connection deletes rows only once the realtime service acknowledged every publish of them.
 *
 * Fast path: each outbox row is also NOTIFYed with its content and commit number at commit, and
 * notifications arrive in commit order. Once a read found nothing left behind, every row not yet published is newer than every
 * row published, so the next notifications can be published as they come, without a read. Any gap
 * (a row too large to NOTIFY, a failed publish, a new session) turns the fast path off until a read
 * has caught up with every notification passed over.
 *
 * Under a steady stream of changes the worker reads instead and writers stop notifying (wake.ts);
 * the fast path is off then, and until every writer that skipped its NOTIFY has finished.
 */
import type pg from 'pg';
import { OutboxQueries, type OutboxRow } from './outbox.ts';
import { backoffMs } from './pg.ts';
import { planDrain, type Publish } from './plan.ts';
import { quoteIdent } from './sql.ts';
import { RecentSet, Signal } from './signal.ts';
import { WakeSwitch } from './wake.ts';
import type { Worker, WorkerContext } from './worker.ts';

const ACK_BATCH = 500;
const ACK_GATHER_MS = 20;
const PASSED_OVER_MAX = 100_000;

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
  /** Publishing straight from notifications is safe (see the file comment). */
  private fast = false;
  /** Notifications passed over while the fast path was off (seq -> reads issued before it): a later read must cover them first. */
  private readonly passedOver = new Map<number, number>();
  /** Rows deleted lately, so a late notification or an older read does not send them again. */
  private readonly done = new RecentSet(65_536);
  private reads = 0;
  private coverFromRead = 0;
  private readonly wakeSwitch: WakeSwitch;
  /** A change of wake mode for the drain loop to make. */
  private want?: 'pull' | 'push';
  private readTimer?: NodeJS.Timeout;

  constructor(
    private readonly ctx: WorkerContext,
    private readonly main: pg.Client,
    private readonly acker: pg.Client,
  ) {
    this.q = new OutboxQueries(ctx.setup.names);
    this.wakeSwitch = new WakeSwitch(ctx.setup.names, ctx.cfg.timing.pollIntervalMs, ctx.cfg.timing.pullAbovePerSecond);
  }

  async run(): Promise<void> {
    const channel = this.ctx.setup.names.wakeChannel;
    this.main.on('notification', (n) => {
      if (n.channel === channel) this.onNotification(n.payload ?? '');
    });
    await this.main.query(`LISTEN ${quoteIdent(channel)}`);
    // A predecessor may have left writers not notifying.
    await this.wakeSwitch.leavePull(this.main);
    // The poll catches a lost wake-up and, with the query timeout, notices a dead connection.
    const timer = setInterval(() => {
      this.pollDue = true;
      this.wake();
    }, this.ctx.cfg.timing.pollIntervalMs);
    try {
      await Promise.all([this.drainLoop(), this.ackLoop()]);
    } finally {
      clearInterval(timer);
      clearTimeout(this.readTimer);
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

  private onNotification(text: string): void {
    let n: { q: number; c?: number; t?: string; o?: string; r?: Record<string, unknown> };
    try {
      n = JSON.parse(text) as typeof n;
    } catch {
      this.wake();
      return;
    }
    if (this.inHand.has(n.q) || this.done.has(n.q)) return;
    if (this.wakeSwitch.notified(performance.now())) {
      this.want = 'pull';
      this.fast = false;
    }
    if (!this.fast || !n.r || this.stopping || this.fatal || this.ctx.cfg.batch.maxMessages > 1 || this.inflight >= this.ctx.cfg.batch.maxInFlight) {
      // Too large to carry, not caught up, or too much in flight: a read takes it, and nothing
      // newer may go first.
      this.fast = false;
      this.passOver(n.q);
      this.wake();
      return;
    }
    this.ctx.metrics.seen(1);
    this.dispatch([{ seq: n.q, tablename: n.t!, operation: n.o!, row: n.r, commitSeq: n.c ?? null, committedMs: Date.now(), rowBytes: Buffer.byteLength(text) }], false);
  }

  private async drainLoop(): Promise<void> {
    const { batch } = this.ctx.cfg;
    while (!this.stopping) {
      try {
        if (this.pollDue) {
          this.pollDue = false;
          this.ctx.metrics.backlog(await this.q.backlog(this.main));
        }
        if (this.want) {
          const to = this.want;
          this.want = undefined;
          if (to === 'pull' && this.wakeSwitch.mode === 'push') await this.wakeSwitch.enterPull(this.main);
          if (to === 'push' && this.wakeSwitch.mode === 'pull') await this.wakeSwitch.leavePull(this.main);
          this.ctx.log.debug({ mode: this.wakeSwitch.mode }, 'wake mode');
          this.dirty = true;
        }
        if (this.dirty && !this.barrier && this.inflight < batch.maxInFlight) {
          this.dirty = false;
          await this.wakeSwitch.settle(this.main);
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

  /** Past this many, only a read issued afterwards can prove them all handled. */
  private passOver(seq: number): void {
    if (this.passedOver.size >= PASSED_OVER_MAX) {
      this.passedOver.clear();
      this.coverFromRead = this.reads + 1;
    }
    this.passedOver.set(seq, this.reads);
  }

  private async readAndPublish(limit: number): Promise<void> {
    const read = ++this.reads;
    const fetched = await this.q.fetch(this.main, [...this.inHand], limit);
    const truncated = fetched.length === limit;
    if (truncated) this.dirty = true;
    // Notifications handled while the read was running may have sent some of these already.
    const rows = fetched.filter((r) => !this.inHand.has(r.seq) && !this.done.has(r.seq));
    this.ctx.metrics.seen(rows.length);
    if (rows.length) this.dispatch(rows, truncated);
    // A read issued after a notification and not cut short has taken its row (or the row is gone).
    for (const [q, before] of this.passedOver) if (this.inHand.has(q) || this.done.has(q) || (!truncated && before < read)) this.passedOver.delete(q);
    if (this.wakeSwitch.read(fetched.length, performance.now())) this.want = 'push';
    if (this.barrier) return;
    if (truncated || this.want) this.dirty = true;
    else if (this.wakeSwitch.mode !== 'push') this.readAfter(this.wakeSwitch.nextReadInMs());
    else if (this.passedOver.size === 0 && read >= this.coverFromRead) this.fast = true;
    else this.dirty = true;
  }

  private readAfter(ms: number): void {
    this.readTimer ??= setTimeout(() => {
      this.readTimer = undefined;
      this.wake();
    }, ms);
  }

  private dispatch(rows: OutboxRow[], truncated: boolean): void {
    const { cfg, metrics, log, publisher, setup } = this.ctx;
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
      this.fast = false;
    }
    this.afterSettle();
  }

  private afterSettle(): void {
    if (this.barrier && this.inflight === 0) {
      const wait = backoffMs(this.failures++, this.ctx.cfg.timing.reconnectMinMs, this.ctx.cfg.timing.reconnectMaxMs, this.ctx.random);
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
          this.done.add(dead.seq);
          this.inHand.delete(dead.seq);
          this.ctx.metrics.deadLettered++;
          continue;
        }
        if (this.ackQueue.length) {
          // Deleting is off the delivery path: gather acks for a moment, one statement for many.
          if (this.ackQueue.length < ACK_BATCH && !this.stopping) await new Promise((r) => setTimeout(r, ACK_GATHER_MS));
          const seqs = this.ackQueue.splice(0);
          await this.q.ack(this.acker, seqs);
          for (const s of seqs) {
            this.done.add(s);
            this.inHand.delete(s);
          }
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
