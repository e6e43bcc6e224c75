/**
 * NOTIFY-only mode, the original connector's behaviour, kept as an explicit opt-in: whatever is
 * committed while no connector listens is lost. What it keeps from durable mode: publishes in
 * commit order (Postgres delivers notifications in commit order and one connection carries the
 * publishes), and a row too large for NOTIFY is reported, not failed in the writer's transaction.
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { Worker, WorkerContext } from './worker.ts';
import { Signal } from './signal.ts';
import type { OutboxRow } from './outbox.ts';
import { planDrain } from './plan.ts';
import { NOTIFY_CHANNEL, quoteIdent } from './sql.ts';

interface NotifyPayload {
  table: string;
  type: string;
  row?: Record<string, unknown>;
  oversize?: number;
  id?: string | null;
}

export class NotifyWorker implements Worker {
  private stopping = false;
  private fatal?: Error;
  private inflight = 0;
  private counter = 0;
  /** There is no outbox position here; ids only need to be unique. */
  private readonly idBase = `n${randomBytes(5).toString('hex')}`;
  private readonly signal = new Signal();

  constructor(
    private readonly ctx: WorkerContext,
    private readonly main: pg.Client,
  ) {}

  async run(): Promise<void> {
    this.main.on('notification', (n) => {
      if (n.channel === NOTIFY_CHANNEL && n.payload) this.handle(n.payload);
    });
    await this.main.query(`LISTEN ${quoteIdent(NOTIFY_CHANNEL)}`);
    const timer = setInterval(() => {
      // The probe: a dead LISTEN connection fails this within the query timeout.
      this.main.query('SELECT 1').catch((err: Error) => this.fail(err));
    }, this.ctx.cfg.timing.pollIntervalMs);
    try {
      while (!(this.stopping && this.inflight === 0) && !this.fatal) await this.signal.wait();
    } finally {
      clearInterval(timer);
      this.main.removeAllListeners('notification');
    }
    if (this.fatal) throw this.fatal;
  }

  stop(): void {
    this.stopping = true;
    this.signal.notify();
  }

  fail(err: Error): void {
    this.fatal ??= err;
    this.signal.notify();
  }

  private handle(text: string): void {
    const { metrics, log, cfg, publisher } = this.ctx;
    let p: NotifyPayload;
    try {
      p = JSON.parse(text) as NotifyPayload;
    } catch {
      metrics.error('no_channel');
      log.error({ payload: text.slice(0, 200) }, 'unreadable table_update notification');
      return;
    }
    metrics.seen(1);
    if (p.oversize !== undefined || !p.row) {
      metrics.error('oversize_notify');
      log.error(
        { table: p.table, type: p.type, id: p.id ?? undefined, bytes: p.oversize },
        `change to ${p.table} (${p.type}${p.id ? ` id=${p.id}` : ''}) was ${p.oversize} bytes, over NOTIFY's 8000-byte limit: not published (durable mode delivers it)`,
      );
      return;
    }
    const row: OutboxRow = { seq: ++this.counter, tablename: p.table, operation: p.type, row: p.row, commitSeq: null, committedMs: null };
    const plan = planDrain([row], {
      outboxId: this.idBase,
      routes: this.ctx.routes,
      messageName: cfg.messageName,
      maxMessages: 1,
      maxMessageSize: publisher.maxMessageSize(),
      truncated: false,
    });
    for (const r of plan.rejected) {
      metrics.error(r.reason.includes('exceeds') ? 'too_large' : 'no_channel');
      log.error(`change not publishable: ${r.reason}`);
    }
    if (plan.unmapped.length) metrics.error('unmapped', plan.unmapped.length);
    for (const pub of plan.publishes) {
      this.inflight++;
      metrics.published(pub.messages.length);
      publisher.publish(pub.channel, pub.messages).then(
        () => {
          this.inflight--;
          metrics.acknowledged(pub.messages.length, null);
          this.signal.notify();
        },
        (err: { code?: number; message?: string }) => {
          this.inflight--;
          metrics.error('publish');
          log.error({ channel: pub.channel, code: err.code }, `publish failed, change lost (notify mode): ${err.message}`);
          this.signal.notify();
        },
      );
    }
  }
}
