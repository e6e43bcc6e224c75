/** Shapes shared by the local Lambda service and the handlers it runs (Node 20 runtime style). */

/** The context object AWS passes as a handler's second argument (the subset handlers use). */
export interface LambdaContext {
  functionName: string;
  functionVersion: string;
  invokedFunctionArn: string;
  memoryLimitInMB: string;
  awsRequestId: string;
  logGroupName: string;
  logStreamName: string;
  callbackWaitsForEmptyEventLoop: boolean;
  clientContext?: unknown;
  getRemainingTimeInMillis(): number;
}

export type Handler = (event: unknown, context: LambdaContext) => Promise<unknown>;

export interface LambdaFault {
  /** Probability (0..1) that an invocation fails with an injected error. */
  errorRate?: number;
  /** 'before' (default): the handler does not run; 'after': it runs, then the invocation still fails (side effects stay). */
  errorWhen?: 'before' | 'after';
  /** Added latency before the handler runs. */
  delayMs?: number;
  /** Function timeout; a slower invocation fails with Sandbox.Timedout. */
  timeoutMs?: number;
  /** Reserved concurrency: synchronous invocations beyond it are throttled (429), asynchronous ones wait. */
  concurrency?: number;
  /** Seed for the error-rate draws, for reproducible runs. */
  seed?: number;
}

export interface FunctionStats {
  /** Handler runs started (each asynchronous retry counts again). */
  invocations: number;
  /** Failed runs: handler errors, injected errors, timeouts. */
  errors: number;
  /** Synchronous invocations refused with TooManyRequestsException. */
  throttles: number;
  inFlight: number;
  /** Asynchronous events accepted (202) and not yet finished or dropped. */
  asyncQueued: number;
  /** Asynchronous events retried after a failure. */
  asyncRetries: number;
  /** Asynchronous events discarded after their last failed attempt (no on-failure destination). */
  asyncDropped: number;
  /** Asynchronous events handed to the on-failure destination (retries exhausted or too old). */
  asyncToDestination: number;
}

/** AWS's handling of failed asynchronous (Event) invocations. */
export interface AsyncInvokeConfig {
  /** Retries after the first failed attempt (AWS default 2). */
  maxRetries?: number;
  /** Wait before each retry (AWS: about 1 minute, then about 2). */
  retryDelaysMs?: number[];
  /** Multiplies every retry delay and the maximum event age; 1/60 turns a minute into a second for tests. */
  timeScale?: number;
  /** AWS's MaximumEventAgeInSeconds, in ms before timeScale: an event this old is not retried again. */
  maxEventAgeMs?: number;
  /** AWS's DestinationConfig.OnFailure: a file receiving one destination record per failed event. */
  onFailure?: { destination: string };
}

/** One record per attempt, for observers (history, metrics). */
export interface InvocationRecord {
  functionName: string;
  requestId: string;
  invocationType: 'RequestResponse' | 'Event';
  attempt: number;
  phase: 'queued' | 'started' | 'finished' | 'retry-scheduled' | 'dropped' | 'throttled';
  /** epoch ms */
  at: number;
  error?: string;
}

/** A function as AWS configures one: a handler module and export (`handler: "file.export"`) and its environment. */
export interface ModuleFunction {
  /** Absolute path of the handler module. */
  module: string;
  /** The handler's export name in that module. */
  exportName: string;
  /** Environment variables of the function (its configuration, e.g. DATABASE_URL). */
  environment?: Record<string, string>;
  /** Instances: worker threads each running one invocation at a time (default 4). */
  workers?: number;
}
