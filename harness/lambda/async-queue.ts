/**
 * AWS's internal queue for asynchronous (Event) invocations of one function: events wait for a
 * concurrency slot (throttled events are kept, not refused), and a failed attempt is retried after
 * the configured delays (AWS: ~1 min, then ~2 min), then dropped, or handed to the on-failure
 * destination when one is configured (as is an event older than the maximum event age).
 */
import { appendFailure, failureRecord, type FailureRecord } from './destination.ts';
import type { AsyncInvokeConfig, InvocationRecord } from './types.ts';
import type { FunctionRunner, RunRequest } from './runner.ts';

interface QueuedEvent extends RunRequest {
  attempt: number;
  /** performance.now() when the event was accepted, for the maximum event age. */
  acceptedAt: number;
}

export type QueueConfig = Required<Omit<AsyncInvokeConfig, 'onFailure' | 'maxEventAgeMs'>> & Pick<AsyncInvokeConfig, 'onFailure' | 'maxEventAgeMs'>;

export class AsyncQueue {
  private readonly waiting: QueuedEvent[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly idleWaiters: Array<() => void> = [];
  private running = 0;
  private stopped = false;

  constructor(
    private readonly runner: FunctionRunner,
    private readonly config: QueueConfig,
    private readonly observe: (r: Omit<InvocationRecord, 'functionName' | 'at'>) => void,
  ) {}

  enqueue(req: RunRequest): void {
    this.runner.stats.asyncQueued++;
    this.waiting.push({ ...req, attempt: 1, acceptedAt: performance.now() });
    this.observe({ requestId: req.requestId, invocationType: 'Event', attempt: 1, phase: 'queued' });
    this.pump();
  }

  /** Resolves when nothing waits, runs or is scheduled for retry. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.waiting.length = 0;
    this.notifyIdle();
  }

  private isIdle(): boolean {
    return this.waiting.length === 0 && this.running === 0 && this.timers.size === 0;
  }

  private notifyIdle(): void {
    if (!this.isIdle() && !this.stopped) return;
    for (const w of this.idleWaiters.splice(0)) w();
  }

  /** False when the destination could not take the record (the event is then lost, as on AWS). */
  private deliver(record: FailureRecord): boolean {
    try {
      appendFailure(this.config.onFailure!.destination, record);
      return true;
    } catch {
      return false;
    }
  }

  /** Starts waiting events while slots are free; called again whenever a slot is released. */
  pump(): void {
    while (!this.stopped && this.waiting.length > 0 && this.runner.tryAcquire()) {
      const ev = this.waiting.shift()!;
      this.running++;
      void this.runOne(ev);
    }
  }

  private async runOne(ev: QueuedEvent): Promise<void> {
    this.observe({ requestId: ev.requestId, invocationType: 'Event', attempt: ev.attempt, phase: 'started' });
    const outcome = await this.runner.run(ev);
    this.running--;
    const stats = this.runner.stats;
    if (outcome.ok) {
      stats.asyncQueued--;
      this.observe({ requestId: ev.requestId, invocationType: 'Event', attempt: ev.attempt, phase: 'finished' });
    } else {
      const error = `${outcome.errorType}: ${outcome.errorMessage}`;
      this.observe({ requestId: ev.requestId, invocationType: 'Event', attempt: ev.attempt, phase: 'finished', error });
      const base = this.config.retryDelaysMs[Math.min(ev.attempt - 1, this.config.retryDelaysMs.length - 1)] ?? 0;
      const delay = base * this.config.timeScale;
      const maxAge = this.config.maxEventAgeMs === undefined ? Infinity : this.config.maxEventAgeMs * this.config.timeScale;
      const tooOld = performance.now() - ev.acceptedAt + delay > maxAge;
      if (ev.attempt <= this.config.maxRetries && !tooOld && !this.stopped) {
        stats.asyncRetries++;
        this.observe({ requestId: ev.requestId, invocationType: 'Event', attempt: ev.attempt + 1, phase: 'retry-scheduled' });
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          this.waiting.push({ ...ev, attempt: ev.attempt + 1 });
          this.pump();
        }, delay);
        this.timers.add(timer);
      } else {
        stats.asyncQueued--;
        const record = this.config.onFailure && failureRecord({
          requestId: ev.requestId,
          functionArn: this.runner.arn,
          condition: tooOld && ev.attempt <= this.config.maxRetries ? 'EventAgeExceeded' : 'RetriesExhausted',
          attempts: ev.attempt,
          event: ev.event,
          errorType: outcome.errorType,
          errorMessage: outcome.errorMessage,
        });
        if (record && this.deliver(record)) stats.asyncToDestination++;
        else stats.asyncDropped++;
        this.observe({ requestId: ev.requestId, invocationType: 'Event', attempt: ev.attempt, phase: 'dropped', error: record ? `${error} (sent to the on-failure destination)` : error });
      }
    }
    this.pump();
    this.notifyIdle();
  }
}
