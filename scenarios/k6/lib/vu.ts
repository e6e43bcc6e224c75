/**
 * One chat virtual user, independent of k6: it subscribes to its room's incoming channel, and a
 * writer publishes operations on outgoing on an open-loop schedule (a share of the workload's
 * arrival rate, so a slow system cannot slow the load and hide its latency). Late operations
 * still start; one that finds `maxInFlight` publishes unsettled is counted as dropped.
 * Everything it measures goes to a MetricSink (k6 custom metrics in the scripts, a plain
 * recorder in the Node tests).
 */
import { RealtimeClient, type PendingPublish } from './client.ts';
import { Receipts, stampedText } from './latency.ts';
import { Planner, type OpKind } from './planner.ts';
import { chatDelete, chatEdit, chatPost, incomingChannel, outgoingChannel, typingChannel, typingMessage, type ChangeEvent, type ErrorInfo } from './protocol.ts';
import { arrivalsBy, type Executor, type Mix } from './workloads.ts';

export const COUNTERS = ['ops', 'typing', 'acked', 'failed', 'deliveries', 'lost', 'duplicated', 'out_of_order', 'dropped', 'committed_seen', 'errors', 'pending'] as const;
export const TRENDS = ['e2e_latency', 'edit_propagation', 'ack_latency'] as const;
export type CounterName = (typeof COUNTERS)[number];
export type TrendName = (typeof TRENDS)[number];

export interface MetricSink {
  count(name: CounterName, n: number): void;
  trend(name: TrendName, ms: number): void;
}

export interface WriterPlan {
  mix: Mix;
  hot: { perUser: number; skew: number };
  executor: Executor;
  /** This writer's fraction of the arrivals (1 / number of writers). */
  share: number;
  /** In [0, 1): staggers writers so that their shares add up to exactly the workload's arrivals. */
  phase: number;
  seed: number;
}

export interface VuPlan {
  clientId: string;
  room: string;
  writer?: WriterPlan;
  /** Epoch ms: the load runs in [loadStart, loadEnd); everyone stays subscribed until drainEnd. */
  loadStart: number;
  loadEnd: number;
  drainEnd: number;
  maxInFlight: number;
  publishTimeoutMs: number;
}

export interface VuIo {
  send(text: string): void;
  now(): number;
  sink: MetricSink;
  /** A fresh access token when the service asks for one (AUTH); undefined leaves the old one to expire. */
  renewToken?(): string | undefined;
  log?(message: string): void;
}

interface OpTag {
  kind: OpKind;
  opId: string;
}

export class ChatVirtualUser {
  readonly client: RealtimeClient<OpTag>;
  readyAt: number | undefined;
  failed: ErrorInfo | undefined;
  private readonly receipts = new Receipts();
  private readonly planner: Planner | undefined;
  /** Own acknowledged posts whose INSERT has not arrived yet. */
  private readonly awaitingInsert = new Set<string>();
  private scheduled = -1;
  private seq = 0;
  private finished = false;

  constructor(
    private readonly plan: VuPlan,
    private readonly io: VuIo,
  ) {
    const w = plan.writer;
    this.planner = w ? new Planner(w.mix, w.hot, w.seed) : undefined;
    this.client = new RealtimeClient<OpTag>(io.send, io.now, {
      connected: () => this.client.attach(incomingChannel(plan.room)),
      attached: (ch) => {
        if (ch === incomingChannel(plan.room) && this.readyAt === undefined) this.readyAt = io.now();
      },
      ack: (p) => this.onAck(p),
      nack: (p, err) => {
        this.io.sink.count(p.tag.kind === 'typing' ? 'errors' : 'failed', 1);
        this.io.log?.(`${plan.clientId}: ${p.tag.kind} ${p.tag.opId} refused: ${err.code} ${err.message}`);
      },
      change: (_ch, c) => this.onChange(c),
      authRequested: () => {
        const token = io.renewToken?.();
        if (token) this.client.reauthorize(token);
      },
      error: (err, fatal, channel) => {
        this.io.sink.count('errors', 1);
        this.io.log?.(`${plan.clientId}: ${fatal ? 'connection' : `channel ${channel ?? ''}`} error ${err.code}: ${err.message}`);
        if (fatal) this.failed = err;
      },
    });
  }

  get ready(): boolean {
    return this.readyAt !== undefined;
  }

  /** True when the run is over for this user: past the drain, or its connection failed. */
  get done(): boolean {
    return this.failed !== undefined || this.io.now() >= this.plan.drainEnd;
  }

  receive(text: string): void {
    this.client.receive(text);
  }

  /** Call often (every ~10 ms): publishes what is due and expires unanswered publishes. */
  tick(): void {
    for (const p of this.client.expire(this.plan.publishTimeoutMs)) {
      this.io.sink.count(p.tag.kind === 'typing' ? 'errors' : 'failed', 1);
    }
    const w = this.plan.writer;
    if (!w || !this.ready || this.failed) return;
    const now = this.io.now();
    if (now < this.plan.loadStart) return;
    const t = Math.min(now, this.plan.loadEnd) - this.plan.loadStart;
    const due = Math.floor(arrivalsBy(w.executor, t) * w.share + w.phase);
    if (this.scheduled < 0) {
      // Operations due before this user could publish were never started: dropped, not hidden.
      this.scheduled = due;
      if (due > 0) this.io.sink.count('dropped', due);
      return;
    }
    while (this.scheduled < due) {
      this.scheduled++;
      if (this.client.inFlight >= this.plan.maxInFlight) this.io.sink.count('dropped', 1);
      else this.publishNext();
    }
  }

  private publishNext(): void {
    const planner = this.planner!;
    const room = this.plan.room;
    const op = planner.next();
    const opId = `${this.plan.clientId}-${++this.seq}`;
    const now = this.io.now();
    switch (op.kind) {
      case 'post':
        this.client.publish(outgoingChannel(room), [chatPost(opId, stampedText(opId, 'p', now, planner.words()))], { kind: 'post', opId });
        break;
      case 'edit':
        this.client.publish(outgoingChannel(room), [chatEdit(opId, op.target, stampedText(opId, 'e', now, planner.words()))], { kind: 'edit', opId });
        break;
      case 'delete':
        this.client.publish(outgoingChannel(room), [chatDelete(opId, op.target)], { kind: 'delete', opId });
        break;
      case 'typing':
        this.client.publish(typingChannel(room), [typingMessage(opId)], { kind: 'typing', opId });
        this.io.sink.count('typing', 1);
        return;
    }
    this.io.sink.count('ops', 1);
  }

  private onAck(p: PendingPublish<OpTag>): void {
    if (p.tag.kind === 'typing') return;
    this.io.sink.count('acked', 1);
    this.io.sink.trend('ack_latency', this.io.now() - p.sentAt);
    if (p.tag.kind === 'post') {
      this.planner?.ownPosts.push(p.tag.opId);
      this.awaitingInsert.add(p.tag.opId);
    }
  }

  private onChange(c: ChangeEvent): void {
    const now = this.io.now();
    const r = this.receipts.receive(c, now);
    if (r.kind === 'duplicate') {
      this.io.sink.count('duplicated', 1);
      return;
    }
    this.io.sink.count('deliveries', 1);
    if (r.outOfOrder) this.io.sink.count('out_of_order', 1);
    if (r.latency) {
      this.io.sink.trend('e2e_latency', r.latency.ms);
      if (r.latency.stamp.kind === 'e' && c.name === 'UPDATE') this.io.sink.trend('edit_propagation', r.latency.ms);
    }
    if (c.row.author === this.plan.clientId) {
      this.io.sink.count('committed_seen', 1);
      if (c.name === 'INSERT') this.awaitingInsert.delete(c.row.id);
    }
  }

  /**
   * Records what is still open: own acknowledged posts never seen on incoming are lost, publishes
   * never answered are pending. Every threshold counter gets a sample (zero included), so that k6
   * evaluates `count==0` thresholds even on a clean run.
   */
  finish(): { lost: number; pending: number } {
    const lost = this.finished ? 0 : this.awaitingInsert.size;
    const pending = this.finished ? 0 : this.client.inFlight;
    if (!this.finished) {
      this.finished = true;
      for (const name of COUNTERS) this.io.sink.count(name, name === 'lost' ? lost : name === 'pending' ? pending : 0);
    }
    return { lost, pending };
  }
}
