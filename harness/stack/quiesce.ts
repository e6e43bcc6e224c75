/**
 * Quiet: no envelope in the integration rules, no asynchronous event in the Lambda runtime, and
 * an active connector with nothing left to publish, reached before a deadline. What was not
 * quiet at the deadline is named, so a run can say "unknown" rather than "lost".
 */
import type { ConnectorProcess } from './connector-process.ts';
import type { PartProcess } from './part-process.ts';
import type { LambdaPartSpec } from './parts/lambda-spec.ts';
import type { RealtimePartSpec } from './parts/realtime-spec.ts';

export interface QuiesceResult {
  settled: boolean;
  /** Each part not yet quiet at the deadline, e.g. "integration rules: 3 envelopes queued", "connector: backlog 12". */
  waiting: string[];
}

export interface QuiesceParts {
  realtime: PartProcess<RealtimePartSpec>;
  lambda: PartProcess<LambdaPartSpec>;
  connectors: readonly ConnectorProcess[];
}

const POLL_MS = 50;
// Time for an answer to cross the IPC channel after the part's own deadline passed.
const IPC_GRACE_MS = 5_000;

export async function quiesceStack(parts: QuiesceParts, timeoutMs: number): Promise<QuiesceResult> {
  const deadline = performance.now() + timeoutMs;
  const left = () => Math.max(0, Math.round(deadline - performance.now()));
  const waiting: string[] = [];
  try {
    const r = await parts.realtime.request('rulesDrain', { timeoutMs: left() }, left() + IPC_GRACE_MS);
    if (!r.settled) waiting.push(`integration rules: ${r.total.queued} envelopes queued, ${r.total.inFlight} in flight`);
  } catch (err) {
    waiting.push(`integration rules: ${(err as Error).message}`);
  }
  try {
    const r = await parts.lambda.request('drain', { timeoutMs: left() }, left() + IPC_GRACE_MS);
    if (!r.settled) waiting.push(`lambda: ${r.asyncQueued} asynchronous events queued`);
  } catch (err) {
    waiting.push(`lambda: ${(err as Error).message}`);
  }
  const connector = await connectorQuiet(parts.connectors, deadline);
  if (connector) waiting.push(connector);
  return { settled: waiting.length === 0, waiting };
}

/** Undefined once an active connector has nothing left to publish (a restarted one may still be catching up); else why not. */
async function connectorQuiet(connectors: readonly ConnectorProcess[], deadline: number): Promise<string | undefined> {
  if (connectors.length === 0) return undefined;
  for (;;) {
    const health = await Promise.all(connectors.map((c) => c.health()));
    const active = health.find((h) => h?.active);
    if (active && active.backlog === 0) return undefined;
    if (performance.now() >= deadline) {
      if (active) return `connector: backlog ${active.backlog}`;
      return health.some((h) => h) ? 'connector: not active' : 'connector: not answering';
    }
    await new Promise((r) => setTimeout(r, Math.min(POLL_MS, Math.max(0, deadline - performance.now()))));
  }
}
