/**
 * What a scenario file declares: its workload shape, defaults and thresholds. The runner turns
 * it into virtual users, an executor and a schedule; the checkers judge the history.
 */
import type { StackOptions } from '../stack/index.ts';
import type { ExecutorConfig } from '../workload/executors.ts';
import type { AbuseSpec } from './actors/abuse.ts';
import type { ReaderClient } from '../workload/user.ts';

export type Thresholds = Record<string, string[]>;

export interface ScenarioOptions {
  durationMs: number;
  /** Operations per second across all users (open-loop executors). */
  rate: number;
  /** Publishing users per room. */
  users: number;
  rooms: number;
  /** Reader-only users per room (fan-out). */
  readers: number;
  seed: number;
  /** Worker threads for the virtual users (0: all in the main thread); default from the machine's cores. */
  workers?: number;
  /** The client reader-only users run (default sdk). */
  readerClient?: ReaderClient;
}

export interface OperationMix {
  post: number;
  edit: number;
  delete: number;
  typing: number;
}

export interface ScenarioDefinition {
  name: string;
  description: string;
  defaults: Omit<ScenarioOptions, 'seed'>;
  mix: OperationMix;
  /** Edits go to a user's first `perUser` posts with probability `skew` (hot messages). */
  hot: { perUser: number; skew: number };
  executor: (o: ScenarioOptions) => ExecutorConfig;
  /** Users who join mid-run, load history and merge live events. */
  lateJoin?: { perRoom: number; atFraction: number };
  /** A room of its own where a writer posts, then, with nothing live, a joiner reads it back in pages of `pageLimit`. */
  quietJoin?: { posts: number; pageLimit: number };
  thresholds: Thresholds;
  /** Readers leave and come back as a new session (history + live) every `everyMs`, one per room. */
  churn?: { everyMs: number; awayMs: number };
  /** Faults the scenario schedules by itself (`--fault` syntax); `--fault` flags add to them. */
  faults?: (o: ScenarioOptions) => string[];
  /** How the stack must be set up for this scenario. */
  stack?: { rulesFile?: string; connectorMode?: 'durable' | 'notify' | 'wal'; connectors?: number; tokenTtlMs?: number; timeScale?: number; realtimeLimits?: StackOptions['realtimeLimits'] };
  /** How long the stack may take to go quiet after the load (default 20 s): a long outage leaves a backlog. */
  quietTimeoutMs?: number;
  /** Clients that try what they must not (see harness/workload/hostile.ts), mixed into the load. */
  hostile?: {
    perRoom: number;
    attacksPerClient: number;
    /** Extra foreign edits and deletes per hostile client, spread over the run (fresh, stale and other-room targets in turn). */
    foreignWritesPerClient?: number;
    /** Edits and deletes per hostile client sent for a post of its room before that post is published (ids taken from the plan). */
    predictedWritesPerClient?: number;
  };
  /** Attackers beside the honest users (see harness/runner/actors/abuse.ts); `--no-attackers` leaves them out. */
  abuse?: AbuseSpec;
  /** Sample each stack process's memory once a second (the report's memory section). */
  sampleResources?: boolean;
  /** The guarantee the scenario states, printed with its verdict. */
  guarantee?: string;
  /** Client options of the scenario's users, where the app would tune them. */
  client?: { disconnectedRetryTimeoutMs?: number };
}

export function defineScenario(s: ScenarioDefinition): ScenarioDefinition {
  return s;
}
