import { InvokeCommand, LambdaClient, ResourceNotFoundException, TooManyRequestsException } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LambdaService, type InvocationRecord, type LambdaContext, type StartedLambda } from './index.ts';

const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const dec = (p: Uint8Array | undefined) => (p && p.length ? JSON.parse(new TextDecoder().decode(p)) : undefined);

let lambda: StartedLambda;
let client: LambdaClient;
const eventsSeen: unknown[] = [];
let release: (() => void) | undefined;
let flaky = 0;

beforeAll(async () => {
  lambda = await new LambdaService({
    functions: {
      echo: async (event: unknown, ctx: LambdaContext) => ({ event, fn: ctx.functionName, requestId: ctx.awsRequestId, remaining: ctx.getRemainingTimeInMillis() }),
      boom: async () => {
        throw new TypeError('the handler failed');
      },
      record: async (event: unknown) => {
        eventsSeen.push(event);
        return null;
      },
      // Fails on its first two runs, then succeeds: exercises the asynchronous retry schedule.
      flaky: async () => {
        flaky++;
        if (flaky <= 2) throw new Error(`attempt ${flaky} failed`);
        return 'ok';
      },
      hold: () => new Promise<string>((resolve) => (release = () => resolve('released'))),
      slow: () => new Promise((r) => setTimeout(() => r('late'), 400)),
    },
    async: { timeScale: 1 / 600 }, // 60 s -> 100 ms
  }).start();
  // maxAttempts 1: the SDK would otherwise retry throttles itself and hide them from the test.
  client = new LambdaClient({ endpoint: lambda.endpoint, region: lambda.region, credentials: lambda.credentials, maxAttempts: 1 });
});

afterAll(async () => {
  client?.destroy();
  await lambda?.stop();
});

describe('local Lambda Invoke API with @aws-sdk/client-lambda', () => {
  it('runs a handler synchronously and returns its result with a Lambda context', async () => {
    const r = await client.send(new InvokeCommand({ FunctionName: 'echo', Payload: enc({ a: 1 }) }));
    expect(r.StatusCode).toBe(200);
    expect(r.FunctionError).toBeUndefined();
    expect(r.ExecutedVersion).toBe('$LATEST');
    const body = dec(r.Payload);
    expect(body.event).toEqual({ a: 1 });
    expect(body.fn).toBe('echo');
    expect(body.requestId).toBe(r.$metadata.requestId);
    expect(body.remaining).toBeGreaterThan(0);
  });

  it('accepts a function ARN as the name', async () => {
    const r = await client.send(new InvokeCommand({ FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:echo', Payload: enc(7) }));
    expect(dec(r.Payload).event).toBe(7);
  });

  it('reports a handler error as FunctionError with the error payload', async () => {
    const r = await client.send(new InvokeCommand({ FunctionName: 'boom', Payload: enc({}) }));
    expect(r.StatusCode).toBe(200);
    expect(r.FunctionError).toBe('Unhandled');
    const body = dec(r.Payload);
    expect(body.errorType).toBe('TypeError');
    expect(body.errorMessage).toBe('the handler failed');
    expect(Array.isArray(body.trace)).toBe(true);
    expect(lambda.stats('boom').errors).toBe(1);
  });

  it('throws ResourceNotFoundException for an unknown function', async () => {
    await expect(client.send(new InvokeCommand({ FunctionName: 'nope', Payload: enc({}) }))).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('refuses a client with the wrong access key', async () => {
    const wrong = new LambdaClient({ endpoint: lambda.endpoint, region: lambda.region, credentials: { accessKeyId: 'OTHER', secretAccessKey: 'x' }, maxAttempts: 1 });
    await expect(wrong.send(new InvokeCommand({ FunctionName: 'echo' }))).rejects.toMatchObject({ name: 'UnrecognizedClientException' });
    wrong.destroy();
  });

  it('refuses a wrong secret with 403 InvalidSignatureException, as AWS does', async () => {
    const forged = new LambdaClient({ endpoint: lambda.endpoint, region: lambda.region, credentials: { ...lambda.credentials, secretAccessKey: 'guessed' }, maxAttempts: 1 });
    const err = await forged.send(new InvokeCommand({ FunctionName: 'echo' })).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'InvalidSignatureException', $metadata: { httpStatusCode: 403 } });
    forged.destroy();
  });

  it('refuses a clock more than 5 minutes off with the AWS expiry message', async () => {
    const skewed = new LambdaClient({ endpoint: lambda.endpoint, region: lambda.region, credentials: lambda.credentials, maxAttempts: 1, systemClockOffset: -10 * 60_000 });
    const err = await skewed.send(new InvokeCommand({ FunctionName: 'echo' })).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'InvalidSignatureException', message: expect.stringMatching(/^Signature expired: /) });
    skewed.destroy();
  });

  it('refuses a hand-made request that names the key id but cannot sign, and counts it', async () => {
    const before = lambda.refusals().InvalidSignatureException ?? 0;
    const ran = lambda.stats('echo').invocations;
    const day = new Date().toISOString().slice(0, 10).replace(/-/g, '');
    const amzDate = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
    const res = await fetch(`${lambda.endpoint}/2015-03-31/functions/echo/invocations`, {
      method: 'POST',
      headers: {
        'x-amz-date': amzDate,
        authorization: `AWS4-HMAC-SHA256 Credential=${lambda.credentials.accessKeyId}/${day}/${lambda.region}/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=00`,
      },
      body: JSON.stringify({ clientId: 'alice' }),
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('x-amzn-errortype')).toBe('InvalidSignatureException');
    expect(lambda.refusals().InvalidSignatureException).toBe(before + 1);
    expect(lambda.stats('echo').invocations).toBe(ran);
  });

  it('verifies signatures over a qualifier query and an ARN path', async () => {
    const r = await client.send(new InvokeCommand({ FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:echo', Qualifier: '$LATEST', Payload: enc('q') }));
    expect(dec(r.Payload).event).toBe('q');
  });

  it('answers an Event invocation with 202 and runs the handler afterwards', async () => {
    const r = await client.send(new InvokeCommand({ FunctionName: 'record', InvocationType: 'Event', Payload: enc({ n: 1 }) }));
    expect(r.StatusCode).toBe(202);
    expect(r.Payload?.length ?? 0).toBe(0);
    await lambda.drain();
    expect(eventsSeen).toEqual([{ n: 1 }]);
  });

  it('retries a failed Event invocation on the (scaled) AWS schedule', async () => {
    const records: InvocationRecord[] = [];
    const off = lambda.onInvocation((rec) => rec.functionName === 'flaky' && records.push(rec));
    await client.send(new InvokeCommand({ FunctionName: 'flaky', InvocationType: 'Event', Payload: enc({}) }));
    await lambda.drain();
    off();
    expect(flaky).toBe(3);
    const starts = records.filter((r) => r.phase === 'started');
    expect(starts.map((r) => r.attempt)).toEqual([1, 2, 3]);
    // 60 s and 120 s scaled by 1/600: about 100 ms, then about 200 ms.
    expect(starts[1]!.at - starts[0]!.at).toBeGreaterThanOrEqual(95);
    expect(starts[2]!.at - starts[1]!.at).toBeGreaterThanOrEqual(195);
    expect(lambda.stats('flaky')).toMatchObject({ asyncRetries: 2, asyncDropped: 0, asyncQueued: 0 });
  });

  it('throttles synchronous invocations beyond the concurrency limit with TooManyRequestsException', async () => {
    lambda.setFault('hold', { concurrency: 1 });
    const first = client.send(new InvokeCommand({ FunctionName: 'hold' }));
    await waitFor(() => lambda.stats('hold').inFlight === 1);
    const second = client.send(new InvokeCommand({ FunctionName: 'hold' }));
    await expect(second).rejects.toBeInstanceOf(TooManyRequestsException);
    await expect(second).rejects.toMatchObject({ $metadata: { httpStatusCode: 429 } });
    release!();
    expect(dec((await first).Payload)).toBe('released');
    expect(lambda.stats('hold')).toMatchObject({ throttles: 1, inFlight: 0, invocations: 1 });
  });

  it('adds the configured delay and fails at the configured error rate', async () => {
    lambda.setFault('echo', { delayMs: 150 });
    const t0 = performance.now();
    await client.send(new InvokeCommand({ FunctionName: 'echo', Payload: enc(1) }));
    expect(performance.now() - t0).toBeGreaterThanOrEqual(145);

    lambda.setFault('echo', { errorRate: 0.5, seed: 42 });
    const before = lambda.stats('echo').errors;
    let failed = 0;
    for (let i = 0; i < 40; i++) {
      const r = await client.send(new InvokeCommand({ FunctionName: 'echo', Payload: enc(i) }));
      if (r.FunctionError) {
        failed++;
        expect(dec(r.Payload).errorType).toBe('InjectedFault');
      }
    }
    expect(failed).toBeGreaterThan(8);
    expect(failed).toBeLessThan(32);
    expect(lambda.stats('echo').errors - before).toBe(failed);
    lambda.setFault('echo', {});
  });

  it('times out a slow handler as AWS does', async () => {
    lambda.setFault('slow', { timeoutMs: 50 });
    const r = await client.send(new InvokeCommand({ FunctionName: 'slow' }));
    expect(r.FunctionError).toBe('Unhandled');
    expect(dec(r.Payload)).toMatchObject({ errorType: 'Sandbox.Timedout' });
  });

  it('rejects a payload that is not JSON and a fault that is out of range', async () => {
    await expect(client.send(new InvokeCommand({ FunctionName: 'echo', Payload: new TextEncoder().encode('{nope') }))).rejects.toMatchObject({
      name: 'InvalidRequestContentException',
    });
    expect(() => lambda.setFault('echo', { errorRate: 2 })).toThrow(/errorRate/);
  });
});

async function waitFor(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
