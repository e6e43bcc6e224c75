/** report.json: the fields docs/architecture.md (Contracts) fixes, plus what a reader of a run needs next. */
import type { CheckResult } from '../history/types.ts';
import type { ThresholdResult } from '../checks/thresholds.ts';
import type { IntegrationSummary } from '../checks/integration.ts';
import type { AttackRow, MemorySummary } from './abuse.ts';

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

export interface ThreadHealth {
  thread: string;
  samples: number;
  maxEventLoopDelayP99Ms: number;
  /** Highest share of one core the thread used in a sample, percent. */
  maxCpuPercent: number;
  saturated: boolean;
}

/** What one generator thread cost over the load (its own CPU time). */
export interface ThreadCost {
  thread: string;
  users: number;
  busyUs: number;
  /** Its CPU as a share of one core over the window, percent. */
  busyPercent: number;
  cpuUsPerDelivery: number | null;
}

export interface GeneratorHealth {
  samples: number;
  maxEventLoopDelayP99Ms: number;
  maxCpuPercent: number;
  /** Event-loop delay p99 > 50 ms or busy > 90% in some sample of some thread: latencies are then suspect. */
  saturated: boolean;
  /** Per generator thread (main, worker-N); empty in histories without thread labels. */
  threads: ThreadHealth[];
  /** Worker threads that ran virtual users (0: the main thread ran them); absent in older histories. */
  workers?: number;
  readerClient?: 'sdk' | 'light';
  /** CPU of the generator threads (main + workers) per delivery and per operation, µs. */
  cpuUsPerDelivery?: number | null;
  cpuUsPerOp?: number | null;
  /** CPU of the whole harness process per delivery, µs: includes any stack part the process hosts. */
  processCpuUsPerDelivery?: number | null;
  perWorker?: ThreadCost[];
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

/** The floor measured in the run (INSERT -> pg_notify -> LISTEN -> one WebSocket hop) and e2e as a multiple of it. */
export interface FloorSummary {
  samples: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** e2e p50 / floor p50, and e2e p99 / floor p99; null without e2e samples. */
  e2eP50Ratio: number | null;
  e2eP99Ratio: number | null;
}

/** The stack parts' own CPU over the load window (their process trees), and per committed change. */
export interface StackCost {
  windowMs: number;
  /** Committed changes the costs are divided by. */
  changes: number;
  parts: Array<{ part: string; cpuMs: number; cpuPercent: number; usPerChange: number | null }>;
}

/** The same scenario and seed run under several modes, side by side; every compared run's report carries it. */
export interface ComparisonSummary {
  /** What differed between the runs: the integration rules, the connector's capture mode, or nothing known (saved runs). */
  axis: 'rules' | 'connector-mode' | 'attackers' | 'runs';
  seed: number | null;
  runs: Array<{ label: string; dir: string; passed: boolean }>;
  /** One row per measure, one cell per run, in the runs' order, as report.md shows them. */
  rows: Array<{ measure: string; values: string[] }>;
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
  /** Absent in runs that did not measure it (older histories, a floor that failed). */
  floor?: FloorSummary;
  /** What the writer saw of the integration (order, duplicates, retries); absent without invocation events. */
  integration?: IntegrationSummary;
  /** The abuse scenario's attacks, one row per class; absent in runs without attackers. */
  attacks?: AttackRow[];
  /** Memory of each stack process over the run; absent in runs that did not sample it. */
  memory?: MemorySummary;
  /** Absent when the parts were not measured (older histories, a target the harness does not own). */
  stackCost?: StackCost;
  /** Present in runs made by a comparison (--compare-modes, --compare-connector-modes, --compare). */
  comparison?: ComparisonSummary;
  run: { seed: number | null; startedAt: string | null; durationMs: number };
  options: Record<string, unknown>;
  environment: Record<string, unknown>;
  /** HDR percentile curves per stage: [percentile, ms] points. */
  percentiles: Record<string, [number, number][]>;
  timeline: { bucketSeconds: number; points: TimelinePoint[] };
}
