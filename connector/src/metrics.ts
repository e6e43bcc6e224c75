/**
 * The connector's counters, kept twice on purpose: plain numbers for `stats()` (cheap, synchronous,
 * what tests and the harness read) and Prometheus metrics in a per-instance Registry (two
 * connectors in one process must not share counters).
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface ConnectorStats {
  seen: number;
  published: number;
  acknowledged: number;
  backlog: number;
  reconnects: number;
  errors: number;
}

export type ErrorKind = 'postgres' | 'publish' | 'too_large' | 'no_channel' | 'oversize_notify' | 'unmapped';

export class ConnectorMetrics {
  readonly registry = new Registry();
  readonly counts: ConnectorStats = { seen: 0, published: 0, acknowledged: 0, backlog: 0, reconnects: 0, errors: 0 };
  deadLettered = 0;
  private readonly seenC: Counter;
  private readonly publishedC: Counter;
  private readonly ackedC: Counter;
  private readonly reconnectsC: Counter<'target'>;
  private readonly errorsC: Counter<'kind'>;
  private readonly backlogG: Gauge;
  private readonly activeG: Gauge;
  private readonly lagH: Histogram;
  private readonly slotBytesG: Gauge;
  private readonly slotSecondsG: Gauge;
  private readonly slotUnconsumedG: Gauge;

  constructor() {
    const registers = [this.registry];
    this.seenC = new Counter({ name: 'ably_connector_changes_seen_total', help: 'Row changes read from the outbox or NOTIFY', registers });
    this.publishedC = new Counter({ name: 'ably_connector_messages_published_total', help: 'Messages handed to the realtime service', registers });
    this.ackedC = new Counter({ name: 'ably_connector_messages_acknowledged_total', help: 'Messages the realtime service acknowledged', registers });
    this.reconnectsC = new Counter({ name: 'ably_connector_reconnects_total', help: 'Reconnections', labelNames: ['target'], registers });
    this.errorsC = new Counter({ name: 'ably_connector_errors_total', help: 'Errors by kind', labelNames: ['kind'], registers });
    this.backlogG = new Gauge({ name: 'ably_connector_outbox_backlog', help: 'Outbox rows not yet acknowledged', registers });
    this.activeG = new Gauge({ name: 'ably_connector_active', help: '1 while this instance holds the leader lock', registers });
    this.lagH = new Histogram({
      name: 'ably_connector_lag_seconds',
      help: 'From the writing transaction committing to the realtime ack',
      buckets: [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.slotBytesG = new Gauge({ name: 'ably_connector_slot_lag_bytes', help: 'Mode wal: WAL written since the replication slot\'s confirmed position', registers });
    this.slotSecondsG = new Gauge({ name: 'ably_connector_slot_lag_seconds', help: 'Mode wal: age of the oldest change streamed and not yet acknowledged', registers });
    this.slotUnconsumedG = new Gauge({
      name: 'ably_connector_slot_unconsumed_seconds',
      help: 'Mode wal: how long the replication slot has had no consumer (it pins WAL meanwhile; see max_slot_wal_keep_size)',
      registers,
    });
  }

  slot(lagBytes: number, lagSeconds: number, unconsumedSeconds: number): void {
    this.slotBytesG.set(lagBytes);
    this.slotSecondsG.set(lagSeconds);
    this.slotUnconsumedG.set(unconsumedSeconds);
  }

  seen(n: number): void {
    this.counts.seen += n;
    this.seenC.inc(n);
  }
  published(n: number): void {
    this.counts.published += n;
    this.publishedC.inc(n);
  }
  acknowledged(n: number, committedMs: number | null, now = Date.now()): void {
    this.counts.acknowledged += n;
    this.ackedC.inc(n);
    if (committedMs !== null) for (let i = 0; i < n; i++) this.lagH.observe(Math.max(0, now - committedMs) / 1000);
  }
  reconnect(target: 'postgres' | 'realtime'): void {
    this.counts.reconnects++;
    this.reconnectsC.inc({ target });
  }
  error(kind: ErrorKind, n = 1): void {
    this.counts.errors += n;
    this.errorsC.inc({ kind }, n);
  }
  backlog(n: number): void {
    this.counts.backlog = n;
    this.backlogG.set(n);
  }
  active(on: boolean): void {
    this.activeG.set(on ? 1 : 0);
  }
  stats(): ConnectorStats {
    return { ...this.counts };
  }
}
