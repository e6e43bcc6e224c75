/**
 * The two delivery modes.
 *
 * ably-lambda: how Ably's Lambda integration and AWS's asynchronous invocation behave together.
 * Envelopes wait in per-publisher queues served in turn (so one client's flood does not delay
 * other clients' writes) and up to `concurrency` invocations drain them in parallel, so order across
 * envelopes is not kept; a function error is retried on AWS's schedule (scaled by
 * timeScale) up to maxRetries times, then the envelope is dropped; with `duplicateRate` an
 * envelope is invoked twice. Throttles wait and retry without using up an attempt.
 *
 * ordered: the ideal for comparison. One invocation at a time per channel, in publish order,
 * each retried with exponential backoff until it succeeds. Adaptive: a message that finds its
 * channel idle is invoked at once, alone; while an invocation runs, what arrives queues, and the
 * next invocation carries everything queued in one envelope (up to the rule's batching
 * maxMessages, or COALESCE_MAX_MESSAGES without batching, and COALESCE_MAX_BYTES).
 */
import { Delivery, type Batch, type DeliveryContext, type Job } from './delivery.ts';
import type { Invoker } from './invoker.ts';
import { randomSource } from '../../lib/rng.ts';
import type { IntegrationRule, Redelivery } from './schema.ts';
import { FairQueue } from './fair-queue.ts';

/**
 * Whose turn an envelope waits for: its publisher's (the client of its first message), else its
 * channel's. A client flooding several rooms then waits behind itself, as an SQS fair queue with
 * the client as MessageGroupId (between Ably and the function) serves a noisy tenant last.
 */
const publisherOf = (job: Job): string => {
  const client = job.messages[0]?.clientId;
  return client === undefined ? `channel:${job.channel}` : `client:${client}`;
};

export class AblyLambdaDelivery extends Delivery {
  private readonly queue = new FairQueue<Job>(publisherOf);
  private active = 0;
  private readonly random: () => number;

  constructor(rule: IntegrationRule, invoker: Invoker, ctx: DeliveryContext) {
    super(rule, invoker, ctx);
    this.random = randomSource(rule.seed);
  }

  /** The nemesis's redelivery while its window lasts, in real milliseconds (not scaled by timeScale). */
  private redeliveryFault?: Redelivery;

  setRedelivery(r: Redelivery | undefined): void {
    this.redeliveryFault = r;
  }

  private get late(): { r: Redelivery; scale: number } | undefined {
    if (this.redeliveryFault) return { r: this.redeliveryFault, scale: 1 };
    return this.rule.redelivery ? { r: this.rule.redelivery, scale: this.rule.timeScale } : undefined;
  }

  protected submit(batch: Batch): void {
    const late = this.late?.r;
    const first = this.job(batch, false);
    if (late && late.delayRate > 0 && this.random() < late.delayRate) this.later(this.lateDelay(), () => this.enqueue(first));
    else this.enqueue(first);
    if (this.rule.duplicateRate > 0 && this.random() < this.rule.duplicateRate) {
      this.counters.duplicates++;
      this.enqueue(this.job(batch, true));
    }
    if (late && late.duplicateRate > 0 && this.random() < late.duplicateRate) {
      this.counters.duplicates++;
      const dup = this.job(batch, true);
      this.later(this.lateDelay(), () => this.enqueue(dup));
    }
  }

  private lateDelay(): number {
    const { r, scale } = this.late!;
    const { min, max } = r.delayMs;
    return (min + this.random() * (max - min)) * scale;
  }

  private enqueue(job: Job): void {
    this.record(job, 'scheduled');
    // AWS's asynchronous event queue hands events to the function after a variable delay, so an
    // event can start before one accepted earlier.
    const { min, max } = this.rule.queueDelayMs;
    const wait = max > min ? min + this.random() * (max - min) : min;
    const push = () => {
      this.queue.push(job);
      this.counters.queued++;
      this.pump();
    };
    if (wait > 0) this.later(wait, push);
    else push();
  }

  private pump(): void {
    while (!this.stopped && this.active < this.rule.concurrency && this.queue.length > 0) {
      const job = this.queue.shift()!;
      this.counters.queued--;
      this.active++;
      this.track(this.run(job));
    }
  }

  private async run(job: Job): Promise<void> {
    const out = await this.attempt(job, this.rule.invocationType);
    this.active--;
    if (out.kind === 'throttled') {
      const { initialBackoffMs, maxBackoffMs } = this.rule.retry;
      const wait = Math.min(maxBackoffMs, initialBackoffMs * 2 ** job.throttles);
      this.record(job, 'retry-scheduled');
      this.later(wait, () => this.enqueue({ ...job, throttles: job.throttles + 1 }));
    } else if (out.kind !== 'ok') {
      const { maxRetries, delaysMs } = this.rule.retry;
      if (job.attempt <= maxRetries) {
        this.counters.retries++;
        const delay = (delaysMs[Math.min(job.attempt - 1, delaysMs.length - 1)] ?? 0) * this.rule.timeScale;
        const next = { ...job, attempt: job.attempt + 1 };
        this.record(next, 'retry-scheduled');
        this.later(delay, () => this.enqueue(next));
      } else {
        this.counters.dropped++;
        this.record(job, 'dropped', { error: out.error });
      }
    }
    this.pump();
  }

  protected busy(): boolean {
    return this.queue.length > 0 || this.active > 0;
  }

  protected clear(): void {
    this.counters.queued -= this.queue.length;
    this.queue.clear();
  }
}

interface ChannelQueue {
  batches: Batch[];
  running: boolean;
}

export class OrderedDelivery extends Delivery {
  private readonly channels = new Map<string, ChannelQueue>();

  constructor(rule: IntegrationRule, invoker: Invoker, ctx: DeliveryContext) {
    super(rule, invoker, ctx);
  }

  protected submit(batch: Batch): void {
    let q = this.channels.get(batch.channel);
    if (!q) this.channels.set(batch.channel, (q = { batches: [], running: false }));
    q.batches.push(batch);
    this.counters.queued++;
    this.record(this.job(batch, false), 'scheduled');
    if (!q.running) {
      q.running = true;
      this.track(this.drainChannel(batch.channel, q));
    }
  }

  private async drainChannel(channel: string, q: ChannelQueue): Promise<void> {
    while (!this.stopped && q.batches.length > 0) {
      const taken = coalesceCount(q.batches, this.rule.batching?.enabled ? this.rule.batching.maxMessages : COALESCE_MAX_MESSAGES);
      const batch = taken === 1 ? q.batches[0]! : { ...q.batches[0]!, messages: q.batches.slice(0, taken).flatMap((b) => b.messages) };
      let job = this.job(batch, false);
      let backoff = this.rule.retry.initialBackoffMs;
      for (;;) {
        // Event would hand ordering to Lambda's queue, which does not keep it: ordered always waits for the result.
        const out = await this.attempt(job, 'RequestResponse');
        if (out.kind === 'ok' || this.stopped) break;
        this.counters.retries++;
        job = { ...job, attempt: job.attempt + 1 };
        this.record(job, 'retry-scheduled');
        const waited = await this.sleep(backoff);
        if (!waited) break;
        backoff = Math.min(this.rule.retry.maxBackoffMs, Math.max(1, backoff * 2));
      }
      if (this.stopped) break;
      q.batches.splice(0, taken);
      this.counters.queued -= taken;
    }
    q.running = false;
    if (q.batches.length === 0) this.channels.delete(channel);
  }

  /** Resolves true after ms, or false at once when stopped (stop() clears the timer). */
  private sleep(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      if (this.stopped) return resolve(false);
      const cancel = () => resolve(false);
      this.sleepers.add(cancel);
      this.later(ms, () => {
        this.sleepers.delete(cancel);
        resolve(true);
      });
    });
  }

  private readonly sleepers = new Set<() => void>();

  protected busy(): boolean {
    for (const q of this.channels.values()) if (q.running || q.batches.length > 0) return true;
    return false;
  }

  protected clear(): void {
    for (const q of this.channels.values()) {
      this.counters.queued -= q.batches.length;
      q.batches.length = 0;
    }
    for (const cancel of this.sleepers) cancel();
    this.sleepers.clear();
  }
}

/** Bounds of one coalesced envelope: well inside the Lambda's 6 MB synchronous payload. */
export const COALESCE_MAX_MESSAGES = 100;
export const COALESCE_MAX_BYTES = 1 << 20;

/**
 * How many queued batches, from the head, the next invocation carries: always the first; more
 * only while their messages stay within the bounds. Sizes are only estimated when a queue has
 * formed, so an idle channel pays nothing for this.
 */
function coalesceCount(batches: readonly Batch[], maxMessages: number): number {
  if (batches.length < 2) return batches.length;
  let messages = batches[0]!.messages.length;
  let bytes = estimateBytes(batches[0]!);
  let n = 1;
  for (; n < batches.length; n++) {
    const b = batches[n]!;
    const size = estimateBytes(b);
    if (messages + b.messages.length > maxMessages || bytes + size > COALESCE_MAX_BYTES) break;
    messages += b.messages.length;
    bytes += size;
  }
  return n;
}

function estimateBytes(b: Batch): number {
  let n = 0;
  for (const m of b.messages) n += 200 + (typeof m.data === 'string' ? m.data.length : Buffer.isBuffer(m.data) ? m.data.length : JSON.stringify(m.data ?? null).length);
  return n;
}
