/** What a mode's worker gets, and what the supervisor expects of it. */
import type { Logger } from 'pino';
import type { ConnectorConfig, Mapping } from './config.ts';
import type { ConnectorMetrics } from './metrics.ts';
import type { RealtimePublisher } from './publisher.ts';
import type { SetupResult } from './setup.ts';

export interface WorkerContext {
  cfg: ConnectorConfig;
  setup: SetupResult;
  routes: Map<string, Mapping[]>;
  publisher: RealtimePublisher;
  metrics: ConnectorMetrics;
  log: Logger;
  /** Backoff jitter, from the configured seed when there is one. */
  random: () => number;
}

export interface Worker {
  /** Resolves after a graceful stop; rejects when the database session is lost. */
  run(): Promise<void>;
  stop(): void;
  fail(err: Error): void;
}
