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

  /** The next receivable message: visible, not in flight, and (FIFO) first of its group. */
  private receive(now: number): QueueMessage | undefined {
    const blocked = new Set<string>();
    for (const m of this.messages) {
      const group = m.job.channel;
      if (this.rule.queue.fifo && blocked.has(group)) continue;
      if (!m.inFlight && m.visibleAt <= now) return m;
      blocked.add(group);
    }
    return undefined;
  }

  private pump(): void {
    const now = performance.now();
    while (!this.stopped && this.active < this.rule.concurrency) {
      const m = this.receive(now);
      if (!m) break;
      m.inFlight = true;
      m.receives++;
      this.active++;
      this.track(this.run(m));
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

  private async run(m: QueueMessage): Promise<void> {
    const job = { ...m.job, attempt: m.receives };
    const out = await this.attempt(job, 'RequestResponse', (e) => sqsEvent(e, m, this.rule));
    this.active--;
    m.inFlight = false;
    if (out.kind === 'ok') {
      this.remove(m);
    } else if (m.receives >= this.rule.queue.maxReceiveCount) {
      this.remove(m);
      this.counters.dropped++;
      this.record(job, 'dropped', { error: `moved to the dead-letter queue after ${m.receives} receives; last error: ${out.error}` });
    } else {
      this.counters.retries++;
      m.visibleAt = performance.now() + this.rule.queue.visibilityTimeoutMs * this.rule.timeScale;
      this.record({ ...job, attempt: m.receives + 1 }, 'retry-scheduled');
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

/** The event Lambda's SQS event-source mapping passes: one record whose body is Ably's envelope. */
function sqsEvent(envelope: Envelope, m: QueueMessage, rule: IntegrationRule): unknown {
  const queue = `ably-${rule.id}${rule.queue.fifo ? '.fifo' : ''}`;
  return {
    Records: [
      {
        messageId: m.messageId,
        receiptHandle: `${m.messageId}:${m.receives}`,
        body: JSON.stringify(envelope),
        attributes: {
          ApproximateReceiveCount: String(m.receives),
          SentTimestamp: String(Math.round(performance.timeOrigin)),
          ...(rule.queue.fifo ? { MessageGroupId: envelope.channel, MessageDeduplicationId: m.job.envelopeId } : {}),
        },
        messageAttributes: {},
        eventSource: 'aws:sqs',
        eventSourceARN: `arn:aws:sqs:us-east-1:000000000000:${queue}`,
        awsRegion: 'us-east-1',
      },
    ],
  };
}
