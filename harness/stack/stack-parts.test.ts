import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase } from '../testing/pg.ts';
import { FAULT_TARGETS, offeredTargets, startStack, type StartedStack } from './index.ts';

let stack: StartedStack;

beforeAll(async () => {
  stack = await startStack({ pg: 'external', databaseUrl: await freshDatabase({ migrate: false }), lambdaWorkers: 2 });
});
afterAll(async () => {
  await stack?.stop();
});

describe('a stack whose parts run in their own processes', () => {
  it('lists one process per part, none of them the harness', () => {
    const procs = stack.processes();
    expect(procs.map((p) => p.part)).toEqual(['lambda', 'realtime', 'functions', 'connector primary', 'harness (generator)']);
    const others = procs.filter((p) => p.part !== 'harness (generator)');
    expect(new Set(others.map((p) => p.pid)).size).toBe(others.length);
    expect(others.every((p) => p.pid !== process.pid)).toBe(true);
  });

  it('offers every fault target, which is what a --fault for a started stack is checked against when parsed', () => {
    expect(offeredTargets(stack)).toEqual(FAULT_TARGETS);
  });

  it('controls the parts through their handles', async () => {
    await stack.lambda.setFault('chat-writer', { concurrency: 1 });
    await expect(stack.lambda.setFault('chat-writer', { concurrency: 0 })).rejects.toThrow(/fault\.concurrency/);
    expect((await stack.lambda.stats('chat-writer')).invocations).toBe(0);
    await stack.lambda.setFault('chat-writer', {});
    expect(await stack.realtime.admin.liveConnections()).toBeGreaterThanOrEqual(1); // the connector
    expect(await stack.realtime.metricsText()).toMatch(/realtime_messages_in_total/);
    expect((await stack.rules.stats()).total.envelopes).toBe(0);
  });

  it('prints all an @aws-sdk/client-lambda user needs, and refuses a wrong signature with 403', async () => {
    const printed = JSON.parse(JSON.stringify(stack.endpoints)) as { lambda: { endpoint: string; region: string; accessKeyId: string; secretAccessKey: string } };
    const { endpoint, region, accessKeyId, secretAccessKey } = printed.lambda;
    const ok = new LambdaClient({ endpoint, region, credentials: { accessKeyId, secretAccessKey }, maxAttempts: 1 });
    const forged = new LambdaClient({ endpoint, region, credentials: { accessKeyId, secretAccessKey: 'LOCALLAMBDAKEY' }, maxAttempts: 1 });
    try {
      expect((await ok.send(new InvokeCommand({ FunctionName: 'chat-writer', InvocationType: 'DryRun' }))).StatusCode).toBe(204);
      const err = await forged.send(new InvokeCommand({ FunctionName: 'chat-writer', Payload: new TextEncoder().encode('{}') })).catch((e: unknown) => e);
      expect(err).toMatchObject({ name: 'InvalidSignatureException', $metadata: { httpStatusCode: 403 } });
      expect((await stack.lambda.stats('chat-writer')).invocations).toBe(0);
    } finally {
      ok.destroy();
      forged.destroy();
    }
  });

  it('reports a quiet stack as settled, and names the part that is not quiet', async () => {
    expect(await stack.quiesce(5_000)).toEqual({ settled: true, waiting: [] });
    await stack.connectorControl.kill();
    try {
      expect(await stack.quiesce(200)).toEqual({ settled: false, waiting: ['connector: not answering'] });
    } finally {
      await stack.connectorControl.start();
    }
  });
});
