/**
 * queue: Ably's SQS integration feeding Lambda through an event-source mapping. Each envelope is
 * a queue message; pollers (up to `concurrency`) receive one, invoke the function synchronously
 * with an SQS event, and delete the message only when the function succeeded. A failed message
 * becomes visible again after the visibility timeout and is received again, until the redrive
 * policy moves it to the dead-letter queue after `maxReceiveCount` receives. A FIFO queue with
 * MessageGroupId = channel hands out a channel's next message only once the one before it is
 * deleted, so each channel is written in publish order.
 */
import { randomUUID } from 'node:crypto';
import { Delivery, type Batch, type DeliveryContext, type Job } from './delivery.ts';
import type { Envelope } from './envelope.ts';
import type { Invoker } from './invoker.ts';
import type { IntegrationRule } from './schema.ts';

interface QueueMessage {
  job: Job;
  messageId: string;
  receives: number;
  /** performance.now() from which it can be received. */
  visibleAt: number;
  inFlight: boolean;
}

export class QueueDelivery extends Delivery {
  private readonly messages: QueueMessage[] = [];
  private active = 0;
  private wakeAt = Infinity;

  constructor(rule: IntegrationRule, invoker: Invoker, ctx: DeliveryContext) {
    super(rule, invoker, ctx);
  }

  protected submit(batch: Batch): void {
    const job = this.job(batch, false);
    this.messages.push({ job, messageId: randomUUID(), receives: 0, visibleAt: 0, inFlight: false });
    this.counters.queued++;
    this.record(job, 'scheduled');
    this.pump();
  }

  /**
   * One receive: up to batchSize visible messages not in flight. FIFO: only the head of a group
   * (what follows an in-flight or invisible message of its group waits), and one group per batch.
   */
  private receive(now: number): QueueMessage[] {
    const blocked = new Set<string>();
    const batch: QueueMessage[] = [];
    const { fifo, batchSize } = this.rule.queue;
    for (const m of this.messages) {
      const group = m.job.channel;
      if (fifo && (blocked.has(group) || (batch.length > 0 && batch[0]!.job.channel !== group))) continue;
      if (!m.inFlight && m.visibleAt <= now) {
        batch.push(m);
        if (batch.length >= batchSize) break;
      } else blocked.add(group);
    }
    return batch;
  }

  private pump(): void {
    const now = performance.now();
    while (!this.stopped && this.active < this.rule.concurrency) {
      const batch = this.receive(now);
      if (batch.length === 0) break;
      for (const m of batch) {
        m.inFlight = true;
        m.receives++;
      }
      this.active++;
      this.track(this.run(batch));
    }
    this.wakeForNextVisible(now);
  }

  /** Pollers find a message again once its visibility timeout has passed. */
  private wakeForNextVisible(now: number): void {
    const next = Math.min(...this.messages.filter((m) => !m.inFlight && m.visibleAt > now).map((m) => m.visibleAt));
    if (!Number.isFinite(next) || next >= this.wakeAt) return;
    this.wakeAt = next;
    this.later(next - now, () => {
      this.wakeAt = Infinity;
      this.pump();
    });
  }

  private async run(batch: QueueMessage[]): Promise<void> {
    // One invocation for the batch; it is recorded under the first message's envelope, the others ride along.
    const jobs = batch.map((m) => ({ ...m.job, attempt: m.receives }));
    const merged: Job = { ...jobs[0]!, messages: jobs.flatMap((j) => j.messages) };
    const out = await this.attempt(merged, 'RequestResponse', () => sqsEvent(batch, this.rule, (j) => this.envelopeOf(j)));
    this.active--;
    for (const [i, m] of batch.entries()) {
      m.inFlight = false;
      const job = jobs[i]!;
      if (out.kind === 'ok') this.remove(m);
      else if (m.receives >= this.rule.queue.maxReceiveCount) {
        this.remove(m);
        this.counters.dropped++;
        this.record(job, 'dropped', { error: `moved to the dead-letter queue after ${m.receives} receives; last error: ${out.error}` });
      } else {
        this.counters.retries++;
        m.visibleAt = performance.now() + this.rule.queue.visibilityTimeoutMs * this.rule.timeScale;
        this.record({ ...job, attempt: m.receives + 1 }, 'retry-scheduled');
      }
    }
    this.pump();
  }

  private remove(m: QueueMessage): void {
    const i = this.messages.indexOf(m);
    if (i >= 0) this.messages.splice(i, 1);
    this.counters.queued--;
  }

  protected busy(): boolean {
    return this.messages.length > 0 || this.active > 0;
  }

  protected clear(): void {
    this.counters.queued -= this.messages.length;
    this.messages.length = 0;
  }
}

/** The event Lambda's SQS event-source mapping passes: one record per message, whose body is Ably's envelope. */
function sqsEvent(batch: QueueMessage[], rule: IntegrationRule, envelopeOf: (job: Job) => Envelope): unknown {
  const queue = `ably-${rule.id}${rule.queue.fifo ? '.fifo' : ''}`;
  return {
    Records: batch.map((m) => ({
      messageId: m.messageId,
      receiptHandle: `${m.messageId}:${m.receives}`,
      body: JSON.stringify(envelopeOf(m.job)),
      attributes: {
        ApproximateReceiveCount: String(m.receives),
        SentTimestamp: String(Math.round(performance.timeOrigin)),
        ...(rule.queue.fifo ? { MessageGroupId: m.job.channel, MessageDeduplicationId: m.job.envelopeId } : {}),
      },
      messageAttributes: {},
      eventSource: 'aws:sqs',
      eventSourceARN: `arn:aws:sqs:us-east-1:000000000000:${queue}`,
      awsRegion: 'us-east-1',
    })),
  };
}
