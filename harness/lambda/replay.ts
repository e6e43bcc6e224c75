/**
 * Replays an on-failure destination: each record's event is invoked again, synchronously and in
 * the order the records were written, through @aws-sdk/client-lambda (so the same code replays
 * against AWS). Safe only because the function is idempotent; what fails again goes back.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { quietAwsSdkNodeWarning } from '../lib/aws-sdk.ts';
import { functionNameOf, takeFailures, type FailureRecord } from './destination.ts';

export interface ReplayOptions {
  /** The destination file. */
  destination: string;
  /** Absent: AWS for the region. */
  endpoint?: string;
  region: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Invoke this function instead of the one each record names. */
  functionName?: string;
}

export interface ReplayResult {
  replayed: number;
  succeeded: number;
  /** Failed again, and put back into the destination. */
  failed: number;
  errors: string[];
}

export async function replayFailures(o: ReplayOptions): Promise<ReplayResult> {
  quietAwsSdkNodeWarning();
  const client = new LambdaClient({
    region: o.region,
    ...(o.endpoint ? { endpoint: o.endpoint } : {}),
    ...(o.credentials ? { credentials: o.credentials } : {}),
    maxAttempts: 1,
  });
  const { records, finish } = takeFailures(o.destination);
  const failed: FailureRecord[] = [];
  const errors: string[] = [];
  try {
    for (const r of records) {
      const error = await invokeOnce(client, o.functionName ?? functionNameOf(r.requestContext.functionArn), r.requestPayload);
      if (error) {
        failed.push(r);
        errors.push(`${r.requestContext.requestId}: ${error}`);
      }
    }
    // Only a finished pass deletes what it took; a replayer killed midway leaves the taken file behind.
    finish(failed);
  } finally {
    client.destroy();
  }
  return { replayed: records.length, succeeded: records.length - failed.length, failed: failed.length, errors };
}

async function invokeOnce(client: LambdaClient, fn: string, payload: unknown): Promise<string | undefined> {
  try {
    const r = await client.send(new InvokeCommand({ FunctionName: fn, InvocationType: 'RequestResponse', Payload: new TextEncoder().encode(JSON.stringify(payload)) }));
    if (!r.FunctionError) return undefined;
    const text = r.Payload ? new TextDecoder().decode(r.Payload) : '';
    return `${r.FunctionError}: ${text.slice(0, 200)}`;
  } catch (err) {
    return `${(err as Error).name}: ${(err as Error).message}`;
  }
}
