import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChatWriter, type ChatWriter } from '../../reference-app/functions/chat-writer.ts';
import { edit, envelope, post } from '../../reference-app/functions/test-support.ts';
import { freshDatabase } from '../testing/pg.ts';
import { appendFailure, readFailures } from './destination.ts';
import { LambdaService, type StartedLambda } from './index.ts';
import { replayFailures } from './replay.ts';

// The real chat-writer behind a switch that plays "the database is unreachable".
let databaseDown = true;
let writer: ChatWriter;
let lambda: StartedLambda;
let client: LambdaClient;
let db: pg.Pool;
let dir: string;
let destination: string;

beforeAll(async () => {
  const url = await freshDatabase();
  db = new pg.Pool({ connectionString: url, max: 1 });
  writer = createChatWriter({ databaseUrl: url, logger: pino({ level: 'silent' }) });
  dir = mkdtempSync(join(tmpdir(), 'destination-test-'));
  destination = join(dir, 'failures.ndjson');
  lambda = await new LambdaService({
    functions: {
      'chat-writer': async (event, ctx) => {
        if (databaseDown) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
        return writer(event, ctx);
      },
    },
    // Two retries 1 ms apart: the retry horizon passes at once while the database is down.
    async: { maxRetries: 2, retryDelaysMs: [1, 1], onFailure: { destination } },
  }).start();
  client = new LambdaClient({ endpoint: lambda.endpoint, region: lambda.region, credentials: lambda.credentials, maxAttempts: 1 });
});

afterAll(async () => {
  client?.destroy();
  await lambda?.stop();
  await writer?.close();
  await db?.end();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const rows = async () =>
  (await db.query('SELECT id, text, version, edited, deleted, updated_at FROM chat_messages ORDER BY id')).rows;

const replay = () => replayFailures({ destination, endpoint: lambda.endpoint, region: lambda.region, credentials: lambda.credentials });

describe('on-failure destination and replay', () => {
  it('keeps an event whose retries are exhausted, as AWS records it, and replaying it twice applies it once', async () => {
    const event = envelope('outage', [post('d-p1', 'alice', 'first'), edit('d-e1', 'alice', 'd-p1', 'first, edited')]);
    await client.send(new InvokeCommand({ FunctionName: 'chat-writer', InvocationType: 'Event', Payload: new TextEncoder().encode(JSON.stringify(event)) }));
    await lambda.drain();

    const [record, ...others] = readFailures(destination);
    expect(others).toEqual([]);
    expect(record).toMatchObject({
      version: '1.0',
      requestContext: { functionArn: expect.stringMatching(/:function:chat-writer$/), condition: 'RetriesExhausted', approximateInvokeCount: 3 },
      requestPayload: event,
      responseContext: { functionError: 'Unhandled' },
      responsePayload: { errorType: 'Error', errorMessage: 'connect ECONNREFUSED 127.0.0.1:5432' },
    });
    expect(lambda.stats('chat-writer')).toMatchObject({ asyncToDestination: 1, asyncDropped: 0, asyncRetries: 2 });
    expect(await rows()).toEqual([]);

    databaseDown = false;
    expect(await replay()).toMatchObject({ replayed: 1, succeeded: 1, failed: 0 });
    expect(readFailures(destination)).toEqual([]);
    const applied = await rows();
    expect(applied).toMatchObject([{ id: 'd-p1', text: 'first, edited', version: 2, edited: true, deleted: false }]);

    // The same record delivered to the replayer again (a queue delivers at least once): nothing changes.
    appendFailure(destination, record!);
    appendFailure(destination, record!);
    expect(await replay()).toMatchObject({ replayed: 2, succeeded: 2, failed: 0 });
    expect(await rows()).toEqual(applied);
  });

  it('puts back what fails again, so nothing is lost by replaying too early', async () => {
    databaseDown = true;
    const event = envelope('outage', [post('d-p2', 'bob', 'second')]);
    await client.send(new InvokeCommand({ FunctionName: 'chat-writer', InvocationType: 'Event', Payload: new TextEncoder().encode(JSON.stringify(event)) }));
    await lambda.drain();
    expect(await replay()).toMatchObject({ replayed: 1, succeeded: 0, failed: 1 });
    expect(readFailures(destination).map((r) => r.requestPayload)).toEqual([event]);
    databaseDown = false;
    expect(await replay()).toMatchObject({ replayed: 1, succeeded: 1 });
    expect((await rows()).map((r) => r.id)).toContain('d-p2');
  });
});

describe('npm run lambda:replay on a bad destination', () => {
  const cli = (file: string) => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../cli/lambda-replay.ts', import.meta.url)), '--destination', file, '--endpoint', lambda.endpoint], { encoding: 'utf8', timeout: 30_000 });
    return { code: r.status, stderr: r.stderr.trim() };
  };

  it('refuses a missing file with one line naming it, and exit code 2', () => {
    const r = cli(join(dir, 'missing.ndjson'));
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`error: --destination ${join(dir, 'missing.ndjson')}: no such file (the stack prints the destination's path when its rules use one)`);
  });

  it('refuses a file of something else with one line naming the line, and leaves the file where it was', () => {
    const file = join(dir, 'bad.ndjson');
    writeFileSync(file, 'not json\n');
    const r = cli(file);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')).toEqual([`error: --destination ${file}:1: not a JSON line (expected one AWS destination record per line)`]);
    expect(existsSync(file)).toBe(true);
    expect(readdirSync(dir).filter((f) => f.includes('.replaying-'))).toEqual([]);
  });
});
