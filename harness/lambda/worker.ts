/**
 * One Lambda "instance": a worker thread that loads the function's handler module once (cold
 * start) and then runs one invocation at a time, as a Lambda execution environment does.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { handlerError, lambdaContext, type RunOutcome } from './context.ts';
import { workerDataSchema, workerRequestSchema, type WorkerReply } from './worker-protocol.ts';
import type { Handler } from './types.ts';

const port = parentPort!;
const data = workerDataSchema.parse(workerData);
const reply = (m: WorkerReply) => port.postMessage(m);

async function load(): Promise<Handler> {
  const mod = (await import(pathToFileURL(data.module).href)) as Record<string, unknown>;
  const fn = mod[data.exportName];
  if (typeof fn !== 'function') throw new Error(`${data.module} has no exported function "${data.exportName}"`);
  return fn as Handler;
}

async function run(handler: Handler, raw: unknown): Promise<void> {
  const req = workerRequestSchema.parse(raw);
  const context = lambdaContext({ functionName: data.functionName, region: data.region, requestId: req.requestId, deadline: req.deadline, ...(req.clientContext !== undefined ? { clientContext: req.clientContext } : {}) });
  let outcome: RunOutcome;
  try {
    outcome = { ok: true, payload: await handler(req.event, context) };
  } catch (err) {
    outcome = handlerError(err);
  }
  if (!outcome.ok) return reply({ type: 'result', id: req.id, outcome });
  let json: string;
  try {
    json = JSON.stringify(outcome.payload ?? null);
  } catch (err) {
    return reply({ type: 'result', id: req.id, outcome: { ok: false, errorType: 'Runtime.MarshalError', errorMessage: `Unable to stringify response body: ${(err as Error).message}`, trace: [] } });
  }
  reply({ type: 'result', id: req.id, json });
}

try {
  const handler = await load();
  port.on('message', (m: unknown) => void run(handler, m));
  reply({ type: 'ready' });
} catch (err) {
  reply({ type: 'init-error', message: (err as Error).message ?? String(err) });
}
