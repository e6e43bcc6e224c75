/** report.json: the fields docs/architecture.md (Contracts) fixes, plus what a reader of a run needs next. */
import type { CheckResult } from '../history/types.ts';
import type { ThresholdResult } from '../checks/thresholds.ts';
import type { IntegrationSummary } from '../checks/integration.ts';

export interface StageLatency {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  min: number;
  avg: number;
}

export interface Counts {
  /** post/edit/delete operations started. */
  sent: number;
  /** committed changes (each version of each row, and hard deletes). */
  committed: number;
  /** change events received (first receipt per subscriber). */
  delivered: number;
  lost: number;
  duplicated: number;
  outOfOrder: number;
  acked: number;
  failed: number;
  rejected: number;
  dropped: number;
  /** started, neither acknowledged nor failed when the run ended. */
  pending: number;
  typing: number;
}

export interface GeneratorHealth {
  samples: number;
  maxEventLoopDelayP99Ms: number;
  maxCpuPercent: number;
  /** Event-loop delay p99 > 50 ms or CPU > 90% in some sample: latencies are then suspect. */
  saturated: boolean;
}

export interface FaultWindow {
  name: string;
  start: number;
  end: number | null;
  detail?: string;
}

/** One bucket of the run's timeline (for charts): rates per second, latencies in ms. */
export interface TimelinePoint {
  /** Bucket start, seconds since run start. */
  t: number;
  opsPerSec: number;
  deliveriesPerSec: number;
  errors: number;
  dropped: number;
  e2eP50: number | null;
  e2eP90: number | null;
  e2eP99: number | null;
  e2eMax: number | null;
  eventLoopDelayP99Ms: number | null;
  cpuPercent: number | null;
}

export interface Report {
  scenario: string;
  passed: boolean;
  /** 0 all valid and held; 1 a checker is not valid; 99 only thresholds failed (k6's code). */
  exitCode: 0 | 1 | 99;
  checks: CheckResult[];
  thresholds: ThresholdResult[];
  counts: Counts;
  /** Milliseconds; stages e2e, invokeToAck, ackToCommit, commitToPublish, publishToReceive, editPropagation. */
  latency: Record<string, StageLatency>;
  throughput: {
    opsPerSec: number;
    deliveriesPerSec: number;
    /** The windows the rates are over: first to last operation, first to last delivery. */
    loadSeconds: number;
    deliverySeconds: number;
  };
  generator: GeneratorHealth;
  generatorSaturated: boolean;
  faults: FaultWindow[];
  /** What the writer saw of the integration (order, duplicates, retries); absent without invocation events. */
  integration?: IntegrationSummary;
  run: { seed: number | null; startedAt: string | null; durationMs: number };
  options: Record<string, unknown>;
  environment: Record<string, unknown>;
  /** HDR percentile curves per stage: [percentile, ms] points. */
  percentiles: Record<string, [number, number][]>;
  timeline: { bucketSeconds: number; points: TimelinePoint[] };
}
