/**
 * The on-failure destination of asynchronous invocations. AWS sends an event whose retries are
 * exhausted (or that grew too old) to the destination as an invocation record; here the
 * destination is a file of such records, one JSON line each, standing in for an SQS queue, so the
 * replay command can read it from another process, as a user's replayer reads the queue on AWS.
 */
import { appendFileSync, existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { z } from 'zod';

/** AWS's destination record for an asynchronous invocation that failed. */
export interface FailureRecord {
  version: '1.0';
  timestamp: string;
  requestContext: {
    requestId: string;
    functionArn: string;
    condition: 'RetriesExhausted' | 'EventAgeExceeded';
    approximateInvokeCount: number;
  };
  requestPayload: unknown;
  responseContext: { statusCode: number; executedVersion: string; functionError: string };
  responsePayload: { errorType: string; errorMessage: string };
}

const RecordSchema = z.object({
  version: z.literal('1.0'),
  timestamp: z.string(),
  requestContext: z.object({
    requestId: z.string(),
    functionArn: z.string().regex(/^arn:aws:lambda:[^:]+:\d+:function:[A-Za-z0-9_-]+/, 'expected a Lambda function ARN'),
    condition: z.enum(['RetriesExhausted', 'EventAgeExceeded']),
    approximateInvokeCount: z.number().int().min(1),
  }),
  requestPayload: z.unknown(),
  responseContext: z.object({ statusCode: z.number(), executedVersion: z.string(), functionError: z.string() }),
  responsePayload: z.object({ errorType: z.string(), errorMessage: z.string() }),
});

export interface FailureInput {
  requestId: string;
  functionArn: string;
  condition: FailureRecord['requestContext']['condition'];
  attempts: number;
  event: unknown;
  errorType: string;
  errorMessage: string;
}

export function failureRecord(f: FailureInput): FailureRecord {
  return {
    version: '1.0',
    timestamp: new Date().toISOString(),
    requestContext: { requestId: f.requestId, functionArn: f.functionArn, condition: f.condition, approximateInvokeCount: f.attempts },
    requestPayload: f.event,
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    responsePayload: { errorType: f.errorType, errorMessage: f.errorMessage },
  };
}

/** Appends synchronously: a record must be on disk before the event counts as handed over. */
export function appendFailure(file: string, record: FailureRecord): void {
  appendFileSync(file, `${JSON.stringify(record)}\n`);
}

/** The records of a destination file; an error names the file and line of the first bad record. */
export function readFailures(file: string): FailureRecord[] {
  if (!existsSync(file)) return [];
  const out: FailureRecord[] = [];
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (!line.trim()) return;
      let json: unknown;
      try {
        json = JSON.parse(line);
      } catch {
        throw new Error(`${file}:${i + 1}: not a JSON line (expected one AWS destination record per line)`);
      }
      const r = RecordSchema.safeParse(json);
      if (!r.success) throw new Error(`${file}:${i + 1}: field '${r.error.issues[0]!.path.join('.') || '(root)'}': ${r.error.issues[0]!.message}`);
      out.push(r.data as FailureRecord);
    });
  return out;
}

/**
 * Takes every record out of the destination (as receiving from a queue does), so failures that
 * happen meanwhile, the replay's own included, land in a fresh file. `finish` puts back what
 * could not be replayed and only then deletes what was taken: a replayer that dies loses nothing.
 */
export function takeFailures(file: string): { records: FailureRecord[]; finish(failed: readonly FailureRecord[]): void } {
  if (!existsSync(file)) return { records: [], finish: () => {} };
  const taken = `${file}.replaying-${process.pid}-${Date.now()}`;
  // Read once in place: a file that cannot be read stays where it is, to be fixed and replayed.
  readFailures(file);
  renameSync(file, taken);
  const records = readFailures(taken);
  return {
    records,
    finish: (failed) => {
      for (const r of failed) appendFailure(file, r);
      rmSync(taken, { force: true });
    },
  };
}

export const functionNameOf = (arn: string): string => arn.split(':')[6] ?? arn;
