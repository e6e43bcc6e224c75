/**
 * A local AWS Lambda: the Invoke API on loopback, running the handlers it is given: a handler
 * module (run on worker threads, one invocation per worker at a time, like Lambda instances) or,
 * for tests, a function value run in this thread. Knows nothing of chat. Clients use @aws-sdk/client-lambda with
 * `endpoint`, `region` and `credentials` from the started handle.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { z } from 'zod';
import { registerCleanup } from '../lib/cleanup.ts';
import { AsyncQueue, type QueueConfig } from './async-queue.ts';
import { createInvokeHandler, type InvokeTarget } from './invoke-api.ts';
import { InlineExecutor, type Executor } from './executor.ts';
import { FunctionRunner } from './runner.ts';
import type { AsyncInvokeConfig, FunctionStats, Handler, InvocationRecord, LambdaFault, ModuleFunction } from './types.ts';
import { WorkerPool } from './worker-pool.ts';

export type { AsyncInvokeConfig, FunctionStats, Handler, InvocationRecord, LambdaContext, LambdaFault, ModuleFunction } from './types.ts';

export const DEFAULT_WORKERS = 4;

export interface LambdaServiceOptions {
  functions: Record<string, Handler | ModuleFunction>;
  port?: number;
  host?: string;
  region?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Retry behaviour for Event invocations (defaults: AWS's 2 retries after 60 s and 120 s). */
  async?: AsyncInvokeConfig;
  logger?: pino.Logger;
}

export interface StartedLambda {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  setFault(fn: string, fault: LambdaFault): void;
  stats(fn: string): FunctionStats;
  /** Requests refused before reaching a function, by AWS error type (InvalidSignatureException, ...). */
  refusals(): Record<string, number>;
  /** Observe every attempt (queued, started, finished, retries, drops, throttles). Returns unsubscribe. */
  onInvocation(listener: (r: InvocationRecord) => void): () => void;
  /** Resolves when no asynchronous event waits, runs or awaits a retry. */
  drain(): Promise<void>;
  stop(): Promise<void>;
}

/** A fault as `setFault` takes it; the stack's IPC checks the same shape. */
export const lambdaFaultSchema = z.strictObject({
  errorRate: z.number().min(0).max(1).optional(),
  errorWhen: z.enum(['before', 'after']).optional(),
  delayMs: z.number().int().min(0).optional(),
  timeoutMs: z.number().int().positive().optional(),
  concurrency: z.number().int().positive().optional(),
  seed: z.number().int().optional(),
});

const AsyncSchema = z.strictObject({
  maxRetries: z.number().int().min(0).max(2).optional(),
  retryDelaysMs: z.array(z.number().min(0)).min(1).optional(),
  timeScale: z.number().positive().optional(),
  // AWS allows 60 s to 6 h.
  maxEventAgeMs: z.number().min(60_000).max(21_600_000).optional(),
  onFailure: z.strictObject({ destination: z.string().min(1) }).optional(),
});

const NAME = /^[A-Za-z0-9_-]{1,64}$/;

export class LambdaService {
  constructor(private readonly opts: LambdaServiceOptions) {
    for (const name of Object.keys(opts.functions)) {
      if (!NAME.test(name)) throw new Error(`functions: "${name}" is not a valid Lambda function name (expected [A-Za-z0-9_-]{1,64})`);
    }
  }

  async start(): Promise<StartedLambda> {
    const o = this.opts;
    const host = o.host ?? '127.0.0.1';
    const region = o.region ?? 'us-east-1';
    const credentials = o.credentials ?? { accessKeyId: 'LOCALLAMBDAKEY', secretAccessKey: 'local-lambda-secret' };
    const logger = o.logger ?? pino({ level: 'silent' });
    const asyncCfg = parseOrThrow(AsyncSchema, o.async ?? {}, 'async');
    const asyncConfig: QueueConfig = {
      maxRetries: asyncCfg.maxRetries ?? 2,
      retryDelaysMs: asyncCfg.retryDelaysMs ?? [60_000, 120_000],
      timeScale: asyncCfg.timeScale ?? 1,
      ...(asyncCfg.maxEventAgeMs !== undefined ? { maxEventAgeMs: asyncCfg.maxEventAgeMs } : {}),
      ...(asyncCfg.onFailure ? { onFailure: asyncCfg.onFailure } : {}),
    };
    const listeners = new Set<(r: InvocationRecord) => void>();
    const emit = (r: InvocationRecord) => {
      for (const l of listeners) l(r);
    };
    const targets = new Map<string, InvokeTarget>();
    const refused = new Map<string, number>();
    const executors = await startExecutors(o.functions, region);
    for (const [name, executor] of executors) {
      const runner = new FunctionRunner(name, executor, region);
      const queue = new AsyncQueue(runner, asyncConfig, (r) => emit({ ...r, functionName: name, at: Date.now() }));
      targets.set(name, { runner, queue });
    }
    const onRequest = createInvokeHandler({
      lookup: (n) => targets.get(n),
      credentials,
      region,
      onRefused: (errorType) => refused.set(errorType, (refused.get(errorType) ?? 0) + 1),
      logger,
      onThrottle: (fn, requestId) =>
        emit({ functionName: fn, requestId, invocationType: 'RequestResponse', attempt: 1, phase: 'throttled', at: Date.now() }),
      onSync: (fn, requestId, phase, error) =>
        emit({ functionName: fn, requestId, invocationType: 'RequestResponse', attempt: 1, phase, at: Date.now(), ...(error ? { error } : {}) }),
    });
    const server: Server = createServer((req, res) => {
      onRequest(req, res).catch((err: unknown) => {
        logger.error({ err }, 'invoke failed');
        if (!res.headersSent) res.writeHead(500, { 'x-amzn-errortype': 'ServiceException' });
        res.end();
      });
    });
    server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.port ?? 0, host, () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    const endpoint = `http://${host}:${port}`;
    logger.info({ endpoint, functions: [...targets.keys()] }, 'lambda service ready');

    const target = (fn: string): InvokeTarget => {
      const t = targets.get(fn);
      if (!t) throw new Error(`no function "${fn}" (known: ${[...targets.keys()].join(', ')})`);
      return t;
    };
    let stopped = false;
    const stop = async () => {
      if (stopped) return;
      stopped = true;
      unregister();
      for (const t of targets.values()) t.queue.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all([...targets.values()].map((t) => t.runner.close()));
    };
    const unregister = registerCleanup({ name: `lambda ${endpoint}`, stop });
    return {
      endpoint,
      region,
      credentials,
      setFault: (fn, fault) => target(fn).runner.setFault(parseOrThrow(lambdaFaultSchema, fault, `fault for ${fn}`)),
      stats: (fn) => ({ ...target(fn).runner.stats }),
      refusals: () => Object.fromEntries(refused),
      onInvocation: (l) => {
        listeners.add(l);
        return () => listeners.delete(l);
      },
      drain: async () => {
        await Promise.all([...targets.values()].map((t) => t.queue.idle()));
      },
      stop,
    };
  }
}

const ModuleFunctionSchema = z.strictObject({
  module: z.string().min(1),
  exportName: z.string().min(1),
  environment: z.record(z.string(), z.string()).optional(),
  workers: z.number().int().min(1).max(64).optional(),
});

async function startExecutors(functions: Record<string, Handler | ModuleFunction>, region: string): Promise<Map<string, Executor>> {
  const out = new Map<string, Executor>();
  try {
    for (const [name, fn] of Object.entries(functions)) {
      if (typeof fn === 'function') {
        out.set(name, new InlineExecutor(fn, name, region));
        continue;
      }
      const spec = parseOrThrow(ModuleFunctionSchema, fn, `functions.${name}`);
      const data = { module: spec.module, exportName: spec.exportName, functionName: name, region };
      out.set(name, await WorkerPool.start(data, spec.environment ?? {}, spec.workers ?? DEFAULT_WORKERS));
    }
  } catch (err) {
    await Promise.all([...out.values()].map((e) => e.close()));
    throw err;
  }
  return out;
}

function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  throw new Error(`${what}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
}
