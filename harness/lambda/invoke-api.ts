/**
 * The HTTP surface of AWS Lambda's Invoke API (2015-03-31), as @aws-sdk/client-lambda speaks it:
 * status codes, headers and error shapes are the ones the SDK parses, so InvokeCommand works
 * unchanged against this server.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { AsyncQueue } from './async-queue.ts';
import type { FunctionRunner, RunOutcome } from './runner.ts';
import { verifySigV4, type SigV4Credentials } from './sigv4.ts';

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;
const MAX_SYNC_PAYLOAD = 6 * 1024 * 1024;
const MAX_ASYNC_PAYLOAD = 1024 * 1024;

export interface InvokeTarget {
  runner: FunctionRunner;
  queue: AsyncQueue;
}

export interface InvokeApiDeps {
  lookup(name: string): InvokeTarget | undefined;
  credentials: SigV4Credentials;
  region: string;
  logger: Logger;
  onThrottle(fn: string, requestId: string): void;
  /** A request refused before it reached a function (bad or missing signature), by AWS error type. */
  onRefused?(errorType: string): void;
  onSync(fn: string, requestId: string, phase: 'started' | 'finished', error?: string): void;
}

export function createInvokeHandler(deps: InvokeApiDeps) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const requestId = randomUUID();
    res.setHeader('x-amzn-RequestId', requestId);
    const url = new URL(req.url ?? '/', 'http://local');
    if (req.method === 'GET' && url.pathname === '/health') return sendJson(res, 200, { ok: true });
    const m = INVOKE_PATH.exec(url.pathname);
    if (req.method !== 'POST' || !m) {
      return sendError(res, 404, 'UnknownOperationException', `no operation at ${req.method} ${url.pathname}`);
    }
    // The signature covers the payload hash, so the body is read (bounded) before anything else is believed.
    const body = await readBody(req, MAX_SYNC_PAYLOAD);
    if (body === 'too-large') {
      return sendError(res, 413, 'RequestTooLargeException', `Request must be smaller than ${MAX_SYNC_PAYLOAD} bytes for the InvokeFunction operation`);
    }
    const refusal = verifySigV4(
      { method: req.method ?? 'POST', rawUrl: req.url ?? '/', headers: req.headers, body },
      { credentials: deps.credentials, region: deps.region, service: 'lambda' },
    );
    if (refusal) {
      deps.onRefused?.(refusal.errorType);
      return sendError(res, refusal.status, refusal.errorType, refusal.message);
    }
    const name = functionNameFrom(safeDecode(m[1]!));
    const target = deps.lookup(name);
    if (!target) {
      const arn = `arn:aws:lambda:${deps.region}:000000000000:function:${name}`;
      return sendError(res, 404, 'ResourceNotFoundException', `Function not found: ${arn}`);
    }
    const type = String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse');
    if (type !== 'RequestResponse' && type !== 'Event' && type !== 'DryRun') {
      return sendError(res, 400, 'InvalidParameterValueException', `1 validation error detected: Value '${type}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]`);
    }
    if (type === 'Event' && body.length > MAX_ASYNC_PAYLOAD) {
      return sendError(res, 413, 'RequestTooLargeException', `Request must be smaller than ${MAX_ASYNC_PAYLOAD} bytes for the InvokeFunction operation`);
    }
    let event: unknown;
    try {
      event = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
    } catch (err) {
      return sendError(res, 400, 'InvalidRequestContentException', `Could not parse request body into json: ${(err as Error).message}`);
    }
    const clientContext = parseClientContext(req.headers['x-amz-client-context']);
    if (type === 'DryRun') return void res.writeHead(204).end();
    if (type === 'Event') {
      target.queue.enqueue({ event, requestId, clientContext });
      return void res.writeHead(202, { 'Content-Length': '0' }).end();
    }
    if (!target.runner.tryAcquire()) {
      target.runner.stats.throttles++;
      deps.onThrottle(name, requestId);
      return sendJson(res, 429, { Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded', Type: 'User', message: 'Rate Exceeded.' }, {
        'x-amzn-errortype': 'TooManyRequestsException',
      });
    }
    deps.onSync(name, requestId, 'started');
    const started = Date.now();
    const outcome = await target.runner.run({ event, requestId, clientContext });
    target.queue.pump();
    deps.onSync(name, requestId, 'finished', outcome.ok ? undefined : `${outcome.errorType}: ${outcome.errorMessage}`);
    const headers: Record<string, string> = { 'X-Amz-Executed-Version': '$LATEST' };
    if (String(req.headers['x-amz-log-type'] ?? '') === 'Tail') headers['X-Amz-Log-Result'] = tailLog(requestId, started, outcome);
    if (!outcome.ok) {
      headers['X-Amz-Function-Error'] = 'Unhandled';
      return sendJson(res, 200, { errorType: outcome.errorType, errorMessage: outcome.errorMessage, trace: outcome.trace }, headers);
    }
    let text: string;
    try {
      text = JSON.stringify(outcome.payload ?? null);
    } catch (err) {
      headers['X-Amz-Function-Error'] = 'Unhandled';
      return sendJson(res, 200, { errorType: 'Runtime.MarshalError', errorMessage: `Unable to stringify response body: ${(err as Error).message}`, trace: [] }, headers);
    }
    res.writeHead(200, { ...headers, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
    deps.logger.debug({ fn: name, requestId, ms: Date.now() - started }, 'invoked');
  };
}

/** Accepts a bare name, a full ARN or a partial ARN ("123:function:name[:qualifier]"). */
function functionNameFrom(raw: string): string {
  const i = raw.indexOf(':function:');
  if (i < 0) return raw;
  return raw.slice(i + ':function:'.length).split(':')[0] ?? raw;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function parseClientContext(h: string | string[] | undefined): unknown {
  if (typeof h !== 'string' || h.length === 0) return undefined;
  try {
    return JSON.parse(Buffer.from(h, 'base64').toString('utf8'));
  } catch {
    return undefined;
  }
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) over = true;
      else chunks.push(c);
    });
    req.on('end', () => resolve(over ? 'too-large' : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function tailLog(requestId: string, started: number, outcome: RunOutcome): string {
  const ms = Date.now() - started;
  const lines = [`START RequestId: ${requestId} Version: $LATEST`];
  if (!outcome.ok) lines.push(`ERROR\t${outcome.errorType}: ${outcome.errorMessage}`);
  lines.push(`END RequestId: ${requestId}`, `REPORT RequestId: ${requestId}\tDuration: ${ms.toFixed(2)} ms`);
  return Buffer.from(lines.join('\n') + '\n').toString('base64');
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: ServerResponse, status: number, errorType: string, message: string): void {
  sendJson(res, status, { Type: 'User', message }, { 'x-amzn-errortype': errorType });
}
