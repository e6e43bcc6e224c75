/**
 * A worker thread that runs virtual users (SDK clients or light readers) for the main thread.
 * It owns their clients and views; the main thread decides what they do (the planner) and
 * receives everything they record in batches on the shared run clock.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { GeneratorHealth } from './health.ts';
import { LightReader } from './light-reader.ts';
import { SharedFrameDecoder } from './shared-frames.ts';
import { ThreadRecorder } from './thread-recorder.ts';
import type { ChatUser } from './user.ts';
import { VirtualUser, errorText } from './virtual-user.ts';
import type { CallUser, CreateUser, FromWorker, ToWorker, UserState, WorkerInit } from './worker-protocol.ts';

const port = parentPort;
if (!port) throw new Error('vu-worker.ts runs only as a worker thread');
const init = workerData as WorkerInit;
const out = (m: FromWorker) => port.postMessage(m);
const recorder = new ThreadRecorder(init.startNs, init.epochMs, (batch, transfer) => port.postMessage(batch, transfer));
const health = new GeneratorHealth(recorder, init.healthIntervalMs, `worker-${init.index}`);
const users = new Map<number, ChatUser>();
const frames = new SharedFrameDecoder();

function create(m: CreateUser): ChatUser {
  if (m.client === 'light') {
    const ep = init.realtime;
    return new LightReader({
      clientId: m.clientId,
      room: m.room,
      realtime: { host: String(ep.endpoint ?? '127.0.0.1'), port: Number(ep.port), tls: ep.tls === true },
      loginUrl: init.loginUrl,
      tokenUrl: init.tokenUrl,
      recorder,
      ignoreVersions: init.ignoreVersions,
      frames,
    });
  }
  return new VirtualUser({
    clientId: m.clientId,
    room: m.room,
    realtime: init.realtime,
    auth: { kind: 'session', loginUrl: init.loginUrl, tokenUrl: init.tokenUrl },
    recorder,
    ignoreVersions: init.ignoreVersions,
    ...(m.late && init.historyUrl ? { historyUrl: init.historyUrl } : {}),
    ...(init.historyUrl ? { catchUpUrl: init.historyUrl } : {}),
  });
}

function stateOf(u: ChatUser): UserState {
  return { joined: u.isJoined, continuityLosses: u.continuityLosses, catchUpErrors: [...u.catchUpErrors] };
}

async function call(u: ChatUser, m: CallUser): Promise<unknown> {
  const [a, b, c] = m.args;
  const s = (v: unknown) => String(v);
  switch (m.method) {
    case 'join':
      return u.join();
    case 'leave':
      return u.leave(typeof a === 'object' ? a : {});
    case 'post':
      return u.post(s(a), s(b));
    case 'edit':
      return u.edit(s(a), s(b), s(c));
    case 'delete':
      return u.delete(s(a), s(b));
    case 'typing':
      return u.typing(s(a));
    case 'settled':
      return u.settled(typeof a === 'number' ? a : undefined);
    case 'recordView':
      return u.recordView();
  }
}

/** Events recorded before the answer go out first, so the main thread has them when it resumes. */
function answer(callId: number, r: { ok: true; value: unknown } | { ok: false; error: string }, u?: ChatUser): void {
  recorder.flush();
  out({ kind: 'result', callId, ...r, ...(u ? { state: stateOf(u) } : {}) } as FromWorker);
}

port.on('message', (m: ToWorker) => {
  switch (m.kind) {
    case 'create':
      users.set(m.id, create(m));
      return;
    case 'health':
      if (m.action === 'start') health.start();
      else health.stop();
      return answer(m.callId, { ok: true, value: m.action === 'stop' ? health.busyUs() : 0 });
    case 'call': {
      const u = users.get(m.id);
      if (!u) return answer(m.callId, { ok: false, error: `no user ${m.id} in worker ${init.index}` });
      call(u, m).then(
        (value) => answer(m.callId, { ok: true, value: value ?? null }, u),
        (err: unknown) => answer(m.callId, { ok: false, error: errorText(err) }, u),
      );
      return;
    }
  }
});

process.on('unhandledRejection', (err) => out({ kind: 'fatal', error: errorText(err) }));
