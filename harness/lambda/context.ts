/** The context object a handler receives, built the same way in-process and in a worker. */
import { randomUUID } from 'node:crypto';
import type { LambdaContext } from './types.ts';

export interface ContextInput {
  functionName: string;
  region: string;
  requestId: string;
  /** epoch ms at which the runtime stops waiting */
  deadline: number;
  clientContext?: unknown;
}

export const functionArn = (region: string, name: string): string => `arn:aws:lambda:${region}:000000000000:function:${name}`;

export function lambdaContext(c: ContextInput): LambdaContext {
  const stream = `${new Date().toISOString().slice(0, 10).replaceAll('-', '/')}/[$LATEST]${randomUUID().replaceAll('-', '')}`;
  return {
    functionName: c.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: functionArn(c.region, c.functionName),
    memoryLimitInMB: '128',
    awsRequestId: c.requestId,
    logGroupName: `/aws/lambda/${c.functionName}`,
    logStreamName: stream,
    callbackWaitsForEmptyEventLoop: true,
    ...(c.clientContext !== undefined ? { clientContext: c.clientContext } : {}),
    getRemainingTimeInMillis: () => Math.max(0, c.deadline - Date.now()),
  };
}

export type RunOutcome =
  | { ok: true; payload: unknown }
  | { ok: false; errorType: string; errorMessage: string; trace: string[] };

export function handlerError(err: unknown): RunOutcome {
  if (err instanceof Error) {
    return { ok: false, errorType: err.name || 'Error', errorMessage: err.message, trace: (err.stack ?? '').split('\n') };
  }
  return { ok: false, errorType: typeof err, errorMessage: String(err), trace: [] };
}
