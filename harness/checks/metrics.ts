/**
 * The metric values thresholds are written against, derived from a history and the final state
 * with the same analyses the checkers use (so a threshold and a checker never disagree on a count).
 * Types follow k6: trends (latency distributions, ms), counters (count and per-second rate over
 * the run), rates (a fraction) and gauges (one value).
 */
import type { FinalState, HistoryEvent } from '../history/types.ts';
import { analyzeAcknowledgedWrites } from './acknowledged-writes.ts';
import { analyzeDelivery, shortfallUnsettled, type DeliveryOptions } from './delivery.ts';
import type { LatencyHistogram } from './histogram.ts';
import { analyzeLatency, type Stage } from './latency-samples.ts';
import { indexRun, isWrite } from './model.ts';
import { analyzePerAuthorOrder } from './per-author-order.ts';
import { analyzeVersionOrder } from './version-order.ts';

export type MetricType = 'trend' | 'counter' | 'rate' | 'gauge';

export type Metric =
  | { type: 'trend'; histogram: LatencyHistogram }
  | { type: 'counter'; count: number; rate: number }
  | { type: 'rate'; rate: number; passes: number; total: number }
  | { type: 'gauge'; value: number };

export const METRICS = {
  e2e_latency: { type: 'trend', help: 'publish call to each subscriber receiving the change (ms)' },
  edit_propagation: { type: 'trend', help: 'edit call until every attached subscriber holds that version (ms)' },
  ack_latency: { type: 'trend', help: 'publish call to the realtime service acknowledging it (ms)' },
  commit_latency: { type: 'trend', help: 'ack to the database commit (ms)' },
  connector_latency: { type: 'trend', help: 'database commit to the connector publishing the change (ms)' },
  fanout_latency: { type: 'trend', help: "connector publish to a subscriber's receipt (ms)" },
  lost: { type: 'counter', help: '(subscriber, change) pairs owed but never received' },
  duplicated: { type: 'counter', help: 'the same event received twice by one subscriber' },
  phantom: { type: 'counter', help: 'receipts of changes never committed (or with content unlike the database)' },
  out_of_order: { type: 'counter', help: 'receipts of an older version after a newer one' },
  stale_applied: { type: 'counter', help: 'older versions a client applied after a newer one' },
  missing_writes: { type: 'counter', help: 'acknowledged writes neither in the database nor rejected' },
  dropped: { type: 'counter', help: 'operations an open-loop executor could not start on time' },
  errors: { type: 'counter', help: 'operations that failed (NACK, timeout, client error)' },
  rejected: { type: 'counter', help: 'writes the chat-writer refused, with a reason' },
  ops: { type: 'counter', help: 'post, edit and delete operations started' },
  deliveries: { type: 'counter', help: 'change events received by subscribers (first receipts)' },
  author_reorder_rate: { type: 'rate', help: "fraction of an author's posts committed out of sending order" },
  generator_event_loop_p99: { type: 'gauge', help: "highest event-loop delay p99 of the load generator (ms)" },
  generator_cpu: { type: 'gauge', help: 'highest CPU use of the load generator (%)' },
} as const satisfies Record<string, { type: MetricType; help: string }>;

export type MetricName = keyof typeof METRICS;
export type MetricSet = Record<MetricName, Metric>;

export interface MetricsOptions {
  delivery?: DeliveryOptions;
}

const TREND_STAGE: Record<string, Stage> = {
  e2e_latency: 'e2e',
  edit_propagation: 'editPropagation',
  ack_latency: 'invokeToAck',
  commit_latency: 'ackToCommit',
  connector_latency: 'commitToPublish',
  fanout_latency: 'publishToReceive',
};

export function computeMetrics(history: readonly HistoryEvent[], final: FinalState, opts: MetricsOptions = {}): MetricSet {
  const idx = indexRun(history, final);
  const seconds = Math.max(idx.endT - idx.startT, 1) / 1000;
  const counter = (count: number): Metric => ({ type: 'counter', count, rate: count / seconds });
  const latency = analyzeLatency(history, final);
  const delivery = analyzeDelivery(history, final, opts.delivery);
  const order = analyzeVersionOrder(history, final);
  const acked = analyzeAcknowledgedWrites(history, final);
  const authors = analyzePerAuthorOrder(history, final);
  let dropped = 0;
  let maxLoop = 0;
  let maxCpu = 0;
  for (const e of history) {
    if (e.type === 'dropped') dropped++;
    else if (e.type === 'health') {
      maxLoop = Math.max(maxLoop, e.eventLoopDelayP99Ms);
      maxCpu = Math.max(maxCpu, e.cpuPercent);
    }
  }
  const trends = Object.fromEntries(
    Object.entries(TREND_STAGE).map(([name, stage]) => [name, { type: 'trend', histogram: latency.histograms[stage] } as Metric]),
  );
  const deliveries = new Set(idx.receives.map((r) => `${r.client}\u0000${r.eventId}`)).size;
  return {
    ...(trends as Record<keyof typeof TREND_STAGE, Metric>),
    // Undelivered by an unsettled stack is not lost (the delivery check says unknown instead).
    lost: counter(shortfallUnsettled(history, delivery) ? 0 : delivery.lost.length),
    duplicated: counter(delivery.duplicates.length),
    phantom: counter(delivery.phantoms.length + delivery.mismatched.length),
    out_of_order: counter(order.outOfOrder),
    stale_applied: counter(order.staleApplies.length),
    missing_writes: counter(acked.missing.length),
    dropped: counter(dropped),
    errors: counter(idx.fails.size),
    rejected: counter(final.rejections.length),
    ops: counter([...idx.invokes.values()].filter((i) => isWrite(i.op)).length),
    deliveries: counter(deliveries),
    author_reorder_rate: { type: 'rate', rate: authors.rate, passes: authors.reordered, total: authors.posts },
    generator_event_loop_p99: { type: 'gauge', value: maxLoop },
    generator_cpu: { type: 'gauge', value: maxCpu },
  } as MetricSet;
}
