import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { InvokeCommand, LambdaClient, TooManyRequestsException } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LambdaService, type StartedLambda } from './index.ts';

const MODULE = fileURLToPath(new URL('./testing/barrier-handler.ts', import.meta.url));
const WORKERS = 3;

/** Holds every request until `release()`, or until `size` requests have arrived. */
class Barrier {
  private held: ServerResponse[] = [];
  private server: Server | undefined;
  arrivals = 0;
  private arrivalWaiters: Array<() => void> = [];
  size = Infinity;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((_req, res) => {
      this.arrivals++;
      this.held.push(res);
      for (const w of this.arrivalWaiters.splice(0)) w();
      if (this.held.length >= this.size) this.release();
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/`;
  }

  async arrived(n: number): Promise<void> {
    while (this.arrivals < n) await new Promise<void>((r) => this.arrivalWaiters.push(r));
  }

  release(): void {
    for (const res of this.held.splice(0)) res.end('go');
  }

  async stop(): Promise<void> {
    this.release();
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }
}

/** Polls a counter the service exposes no event for; a failing test then times out instead. */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
}

const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const dec = (p: Uint8Array | undefined) => JSON.parse(new TextDecoder().decode(p)) as { threadId: number; greeting?: string };

let lambda: StartedLambda;
let client: LambdaClient;
const barrier = new Barrier();

beforeAll(async () => {
  await barrier.start();
  lambda = await new LambdaService({
    functions: { barrier: { module: MODULE, exportName: 'handler', environment: { GREETING: 'from the function config' }, workers: WORKERS } },
  }).start();
  client = new LambdaClient({ endpoint: lambda.endpoint, region: lambda.region, credentials: lambda.credentials, maxAttempts: 1 });
});

afterAll(async () => {
  client?.destroy();
  await lambda?.stop();
  await barrier.stop();
});

const invoke = (event: unknown) => client.send(new InvokeCommand({ FunctionName: 'barrier', Payload: enc(event) }));

describe('Lambda runtime: a handler module on worker threads', () => {
  it('runs as many invocations at once as it has workers, each on its own worker, with the function environment', async () => {
    // The barrier opens only when all of them wait at it together: run one after another, they would never finish.
    barrier.size = WORKERS;
    const results = await Promise.all(Array.from({ length: WORKERS }, () => invoke({ barrierUrl: barrier.url })));
    barrier.size = Infinity;
    const bodies = results.map((r) => dec(r.Payload));
    expect(results.every((r) => r.FunctionError === undefined)).toBe(true);
    expect(new Set(bodies.map((b) => b.threadId)).size).toBe(WORKERS);
    expect(bodies.every((b) => b.threadId !== 0 && b.greeting === 'from the function config')).toBe(true);
  });

  it('queues an invocation beyond the workers until one is idle', async () => {
    const before = barrier.arrivals;
    const running = Array.from({ length: WORKERS + 1 }, () => invoke({ barrierUrl: barrier.url }));
    await barrier.arrived(before + WORKERS);
    // The extra request may still be on its way to the service when the workers' arrive.
    await until(() => lambda.stats('barrier').inFlight === WORKERS + 1);
    expect(barrier.arrivals).toBe(before + WORKERS);
    barrier.release();
    await barrier.arrived(before + WORKERS + 1);
    barrier.release();
    const results = await Promise.all(running);
    expect(results.every((r) => r.FunctionError === undefined)).toBe(true);
  });

  it('still throttles beyond a reserved-concurrency fault', async () => {
    lambda.setFault('barrier', { concurrency: 2 });
    try {
      const before = barrier.arrivals;
      const held = [invoke({ barrierUrl: barrier.url }), invoke({ barrierUrl: barrier.url })];
      await barrier.arrived(before + 2);
      await expect(invoke({})).rejects.toBeInstanceOf(TooManyRequestsException);
      expect(lambda.stats('barrier').throttles).toBe(1);
      barrier.release();
      await Promise.all(held);
    } finally {
      lambda.setFault('barrier', {});
    }
  });

  it('refuses to start a function whose module lacks the handler export', async () => {
    await expect(new LambdaService({ functions: { bad: { module: MODULE, exportName: 'notAFunction', workers: 1 } } }).start()).rejects.toThrow(/no exported function "notAFunction"/);
  });
});
