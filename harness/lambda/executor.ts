/** How a function's handler is run: in this thread (a handler given as a value) or on worker threads (a handler module). */
import { handlerError, lambdaContext, type RunOutcome } from './context.ts';
import type { Handler } from './types.ts';

export interface RunRequest {
  event: unknown;
  requestId: string;
  clientContext?: unknown;
}

export interface Executor {
  /** Runs the handler once; never rejects (a handler failure is an outcome). */
  invoke(req: RunRequest, deadline: number): Promise<RunOutcome>;
  close(): Promise<void>;
}

export class InlineExecutor implements Executor {
  constructor(
    private readonly handler: Handler,
    private readonly functionName: string,
    private readonly region: string,
  ) {}

  async invoke(req: RunRequest, deadline: number): Promise<RunOutcome> {
    const context = lambdaContext({ functionName: this.functionName, region: this.region, requestId: req.requestId, deadline, ...(req.clientContext !== undefined ? { clientContext: req.clientContext } : {}) });
    try {
      return { ok: true, payload: await this.handler(req.event, context) };
    } catch (err) {
      return handlerError(err);
    }
  }

  async close(): Promise<void> {}
}
