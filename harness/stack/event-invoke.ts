/**
 * The Lambda function's configuration for asynchronous invocations (AWS's EventInvokeConfig) as
 * the stack sets it up: the on-failure destination lives in a temporary folder of the run, and
 * the harness replays it as a user's replayer would, through the Invoke API (harness/lambda/replay.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface EventInvokeOptions {
  /** DestinationConfig.OnFailure: keep events whose retries are exhausted. */
  onFailure?: boolean;
  /** MaximumEventAgeInSeconds, in ms before the time scale. */
  maxEventAgeMs?: number;
  /** Replay the destination once the stack has gone quiet (the database is back by then). */
  replayWhenQuiet?: boolean;
}

/** A fresh destination file in a folder of its own; remove() deletes both when the stack stops. */
export function createDestinationFile(): { file: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'lambda-on-failure-'));
  return { file: join(dir, 'chat-writer.ndjson'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}
