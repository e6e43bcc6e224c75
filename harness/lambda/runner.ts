/**
 * Runs one function's handler the way the Lambda runtime would: a fresh context per attempt,
 * a reserved-concurrency budget, and the configured faults (delay, error rate, timeout). Where
 * the handler runs (this thread or worker threads) is the executor's business.
 */
import { randomSource } from '../lib/rng.ts';
import type { RunOutcome } from './context.ts';
import type { Executor, RunRequest } from './executor.ts';
import type { FunctionStats, LambdaFault } from './types.ts';

export type { RunOutcome } from './context.ts';
export type { RunRequest } from './executor.ts';

const DEFAULT_TIMEOUT_MS = 900_000; // AWS's maximum function timeout

export class FunctionRunner {
  readonly stats: FunctionStats = { invocations: 0, errors: 0, throttles: 0, inFlight: 0, asyncQueued: 0, asyncRetries: 0, asyncDropped: 0, asyncToDestination: 0 };
  private fault: LambdaFault = {};
  private rng: () => number = Math.random;

  constructor(
    readonly name: string,
    private readonly executor: Executor,
    readonly region: string,
  ) {}

  setFault(fault: LambdaFault): void {
    this.fault = { ...fault };
    this.rng = randomSource(fault.seed);
  }

  get arn(): string {
    return `arn:aws:lambda:${this.region}:000000000000:function:${this.name}`;
  }

  /** True when a slot was taken; the caller must then call run(), which releases it. */
  tryAcquire(): boolean {
    const limit = this.fault.concurrency;
    if (limit !== undefined && this.stats.inFlight >= limit) return false;
    this.stats.inFlight++;
    return true;
  }

  async run(req: RunRequest): Promise<RunOutcome> {
    this.stats.invocations++;
    const timeoutMs = this.fault.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const deadline = Date.now() + timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    try {
      const attempt = this.attempt(req, deadline);
      // The runtime stops waiting at the timeout; the handler's promise is abandoned, as AWS freezes the sandbox.
      const timeout = new Promise<RunOutcome>((resolve) => {
        timer = setTimeout(
          () =>
            resolve({
              ok: false,
              errorType: 'Sandbox.Timedout',
              errorMessage: `RequestId: ${req.requestId} Error: Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`,
              trace: [],
            }),
          timeoutMs,
        );
      });
      const outcome = await Promise.race([attempt, timeout]);
      if (!outcome.ok) this.stats.errors++;
      return outcome;
    } finally {
      if (timer) clearTimeout(timer);
      this.stats.inFlight--;
    }
  }

  private async attempt(req: RunRequest, deadline: number): Promise<RunOutcome> {
    const { delayMs = 0, errorRate = 0, errorWhen = 'before' } = this.fault;
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    const inject = errorRate > 0 && this.rng() < errorRate;
    if (inject && errorWhen === 'before') return injected();
    const outcome = await this.executor.invoke(req, deadline);
    if (inject && outcome.ok) return injected();
    return outcome;
  }

  close(): Promise<void> {
    return this.executor.close();
  }
}

function injected(): RunOutcome {
  return { ok: false, errorType: 'InjectedFault', errorMessage: 'injected by the local Lambda service (errorRate)', trace: [] };
}

