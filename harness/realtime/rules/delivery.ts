/**
 * What both delivery modes share: batching of a channel's messages into envelopes, one
 * recorded attempt, tracked timers, and knowing when nothing is left to do.
 */
import { randomUUID } from 'node:crypto';
import { buildEnvelope, type Envelope, type RuleMessage } from './envelope.ts';
import type { InvokeOutcome, Invoker } from './invoker.ts';
import { emptyCounters, epochNow, type RuleInvocationRecord } from './records.ts';
import type { IntegrationRule } from './schema.ts';

export interface Batch {
  envelopeId: string;
  channel: string;
  messages: RuleMessage[];
}

export interface Job extends Batch {
  invocationId: string;
  duplicate: boolean;
  attempt: number;
  /** Throttled tries so far (do not count as attempts, as in AWS's async queue). */
  throttles: number;
}

export interface DeliveryContext {
  appId: string;
  site: string;
  emit(r: RuleInvocationRecord): void;
}

export abstract class Delivery {
  readonly counters = emptyCounters();
  protected stopped = false;
  private readonly buffers = new Map<string, { messages: RuleMessage[]; timer?: NodeJS.Timeout }>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly running = new Set<Promise<void>>();
  private idleWaiters: Array<() => void> = [];

  constructor(
    protected readonly rule: IntegrationRule,
    private readonly invoker: Invoker,
    private readonly ctx: DeliveryContext,
  ) {}

  /** Called synchronously by the realtime hook, in per-channel publish order. */
  accept(m: RuleMessage): void {
    if (this.stopped) return;
    this.counters.matched++;
    const b = this.rule.batching;
    if (!b?.enabled) return this.submit(this.batch(m.channel, [m]));
    let buf = this.buffers.get(m.channel);
    if (!buf) this.buffers.set(m.channel, (buf = { messages: [] }));
    buf.messages.push(m);
    if (buf.messages.length >= b.maxMessages) this.flush(m.channel);
    else if (!buf.timer) buf.timer = setTimeout(() => this.flush(m.channel), b.maxDelayMs);
  }

  private flush(channel: string): void {
    const buf = this.buffers.get(channel);
    if (!buf) return;
    if (buf.timer) clearTimeout(buf.timer);
    this.buffers.delete(channel);
    if (buf.messages.length) this.submit(this.batch(channel, buf.messages));
  }

  private batch(channel: string, messages: RuleMessage[]): Batch {
    this.counters.envelopes++;
    return { envelopeId: randomUUID(), channel, messages };
  }

  protected abstract submit(batch: Batch): void;
  /** True while the mode has queued, running or scheduled work. */
  protected abstract busy(): boolean;
  protected abstract clear(): void;

  protected job(batch: Batch, duplicate: boolean): Job {
    return { ...batch, invocationId: randomUUID(), duplicate, attempt: 1, throttles: 0 };
  }

  protected record(job: Job, phase: RuleInvocationRecord['phase'], extra: Partial<RuleInvocationRecord> = {}): void {
    this.ctx.emit({
      ruleId: this.rule.id,
      functionName: this.rule.functionName,
      mode: this.rule.mode,
      channel: job.channel,
      envelopeId: job.envelopeId,
      invocationId: job.invocationId,
      duplicate: job.duplicate,
      attempt: job.attempt,
      messageIds: job.messages.map((m) => m.id),
      serials: job.messages.map((m) => m.serial),
      phase,
      at: epochNow(),
      ...extra,
    });
  }

  protected envelopeOf(batch: Batch): Envelope {
    return buildEnvelope(this.rule.id, this.ctx.appId, this.ctx.site, batch.channel, batch.messages);
  }

  /** One invocation of the function with this job's envelope, recorded and counted. */
  protected async attempt(job: Job, type: 'RequestResponse' | 'Event', wrap: (envelope: Envelope) => unknown = (e) => e): Promise<InvokeOutcome> {
    const envelope = wrap(this.envelopeOf(job));
    this.counters.invocations++;
    this.counters.inFlight++;
    this.record(job, 'started');
    const out = await this.invoker.invoke(this.rule.functionName, envelope, type);
    this.counters.inFlight--;
    if (out.kind === 'ok') this.counters.succeeded++;
    else if (out.kind === 'function-error') this.counters.functionErrors++;
    else if (out.kind === 'throttled') this.counters.throttled++;
    else this.counters.transportErrors++;
    this.record(job, 'finished', {
      outcome: out.kind,
      ...(out.requestId ? { requestId: out.requestId } : {}),
      ...(out.kind === 'ok' ? (out.result !== undefined ? { result: out.result } : {}) : { error: out.error }),
    });
    return out;
  }

  /** Runs fn after ms unless stopped; the pending timer keeps the delivery busy. */
  protected later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.stopped) fn();
      this.checkIdle();
    }, ms);
    this.timers.add(t);
  }

  protected track(p: Promise<void>): void {
    this.running.add(p);
    void p.finally(() => {
      this.running.delete(p);
      this.checkIdle();
    });
  }

  private isIdle(): boolean {
    return this.stopped || (this.buffers.size === 0 && this.timers.size === 0 && this.running.size === 0 && !this.busy());
  }

  protected checkIdle(): void {
    if (!this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  /** Resolves when nothing is buffered, queued, running or scheduled. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const b of this.buffers.values()) if (b.timer) clearTimeout(b.timer);
    this.buffers.clear();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.clear();
    await Promise.allSettled([...this.running]);
    this.checkIdle();
  }
}
