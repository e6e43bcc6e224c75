/**
 * Virtual users sharded over worker threads, so that with hundreds of clients the generator's
 * own queueing does not become the latency it reports. The main thread keeps a proxy per user
 * with the surface the runner and planner use (`ChatUser`); calls go to the owning worker, and
 * the workers' history arrives in batches (see thread-recorder.ts).
 */
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { registerCleanup } from '../lib/cleanup.ts';
import type { EventBatch } from './thread-recorder.ts';
import type { ChatUser, ReaderClient } from './user.ts';
import type { CallUser, FromWorker, ToWorker, UserMethod, UserState, WorkerInit } from './worker-protocol.ts';

/**
 * One core stays with the main thread (planner, history, live figures) and the stack parts it
 * may host; the rest run users. Never fewer than one worker: the main thread must not carry them.
 */
export function defaultWorkers(cores = availableParallelism()): number {
  return Math.max(1, cores - 1);
}

/** Workers do not inherit tsx's loader hooks: each registers tsx before importing the TypeScript entry. */
export function bootstrap(entry: URL): string {
  const api = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api')).href.replace(/index\.cjs$/, 'index.mjs');
  return `import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); })`;
}

interface Pending {
  resolve: (r: { value: unknown; state?: UserState }) => void;
  reject: (e: Error) => void;
}

class WorkerHandle {
  readonly worker: Worker;
  users = 0;
  private readonly pending = new Map<number, Pending>();
  private seq = 0;
  failure: Error | undefined;

  constructor(init: WorkerInit, onBatch: (b: EventBatch) => void) {
    this.worker = new Worker(bootstrap(new URL('./vu-worker.ts', import.meta.url)), { eval: true, workerData: init });
    this.worker.on('message', (m: FromWorker) => {
      if (m.kind === 'events') return onBatch(m);
      if (m.kind === 'fatal') return this.fail(new Error(`worker-${init.index}: ${m.error}`));
      const p = this.pending.get(m.callId);
      if (!p) return;
      this.pending.delete(m.callId);
      if (m.ok) p.resolve({ value: m.value, ...(m.state ? { state: m.state } : {}) });
      else p.reject(Object.assign(new Error(m.error), { state: m.state }));
    });
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => this.fail(new Error(`worker-${init.index} exited with code ${code}`)));
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  /** Fire and forget; after a failure it does nothing, and the user's next call rejects with the failure. */
  send(m: ToWorker): void {
    if (!this.failure) this.worker.postMessage(m);
  }

  request(m: Omit<CallUser, 'callId'> | { kind: 'health'; action: 'start' | 'stop' }): Promise<{ value: unknown; state?: UserState }> {
    if (this.failure) return Promise.reject(this.failure);
    const callId = ++this.seq;
    return new Promise((resolve, reject) => {
      this.pending.set(callId, { resolve, reject });
      this.worker.postMessage({ ...m, callId } as ToWorker);
    });
  }
}

/** A user living in a worker thread, as the main thread sees it. */
export class RemoteUser implements ChatUser {
  readonly ownPosts: string[] = [];
  readonly deleted = new Set<string>();
  private state: UserState = { joined: false, continuityLosses: 0, catchUpErrors: [] };

  constructor(
    private readonly handle: WorkerHandle,
    private readonly id: number,
    readonly clientId: string,
    readonly room: string,
  ) {}

  get isJoined(): boolean {
    return this.state.joined;
  }
  get continuityLosses(): number {
    return this.state.continuityLosses;
  }
  get catchUpErrors(): readonly string[] {
    return this.state.catchUpErrors;
  }

  private async call(method: UserMethod, ...args: CallUser['args']): Promise<unknown> {
    try {
      const r = await this.handle.request({ kind: 'call', id: this.id, method, args });
      if (r.state) this.state = r.state;
      return r.value;
    } catch (err) {
      const state = (err as { state?: UserState }).state;
      if (state) this.state = state;
      throw err;
    }
  }

  async join(): Promise<void> {
    await this.call('join');
  }
  async leave(opts: { asOperation?: boolean } = {}): Promise<void> {
    await this.call('leave', opts);
  }
  async post(opId: string, text: string): Promise<boolean> {
    const acked = (await this.call('post', opId, text)) === true;
    if (acked) this.ownPosts.push(opId);
    return acked;
  }
  async edit(opId: string, target: string, text: string): Promise<void> {
    await this.call('edit', opId, target, text);
  }
  async delete(opId: string, target: string): Promise<void> {
    this.deleted.add(target);
    await this.call('delete', opId, target);
  }
  async typing(opId: string): Promise<void> {
    await this.call('typing', opId);
  }
  async settled(timeoutMs?: number): Promise<void> {
    await this.call('settled', ...(timeoutMs === undefined ? [] : [timeoutMs]));
  }
  async recordView(): Promise<void> {
    await this.call('recordView');
  }
}

export interface PoolOptions extends Omit<WorkerInit, 'index'> {
  workers: number;
  /** Each worker's batch of history lines and figures (LiveStats.ingest). */
  onBatch: (b: EventBatch) => void;
}

export class VuPool {
  private readonly handles: WorkerHandle[];
  private readonly unregister: () => void;
  private nextId = 0;
  private stopped = false;

  constructor(opts: PoolOptions) {
    const { workers, onBatch, ...init } = opts;
    if (!Number.isInteger(workers) || workers < 1) throw new Error(`workers: expected a positive integer, got ${workers}`);
    this.handles = Array.from({ length: workers }, (_, index) => new WorkerHandle({ ...init, index }, onBatch));
    // Ctrl-C or a failure elsewhere: the threads go with the clients they hold.
    this.unregister = registerCleanup({ name: 'virtual-user workers', stop: () => this.stop() });
  }

  get size(): number {
    return this.handles.length;
  }

  /** The first worker failure (a crashed thread), if any. */
  get failure(): Error | undefined {
    return this.handles.find((h) => h.failure)?.failure;
  }

  /** Places a new user on the worker with the fewest. */
  create(clientId: string, room: string, opts: { late: boolean; client: ReaderClient }): RemoteUser {
    const h = this.handles.reduce((a, b) => (b.users < a.users ? b : a));
    const id = this.nextId++;
    h.users++;
    h.send({ kind: 'create', id, clientId, room, late: opts.late, client: opts.client });
    return new RemoteUser(h, id, clientId, room);
  }

  async startHealth(): Promise<void> {
    await Promise.all(this.handles.map((h) => h.request({ kind: 'health', action: 'start' })));
  }

  /** Stops health sampling; per worker, its event loop's busy time since startHealth (µs) and its users. */
  async stopHealth(): Promise<Array<{ thread: string; busyUs: number; users: number }>> {
    const r = await Promise.all(this.handles.map((h) => h.request({ kind: 'health', action: 'stop' })));
    return r.map((x, i) => ({ thread: `worker-${i}`, busyUs: Number(x.value), users: this.handles[i]!.users }));
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.unregister();
    await Promise.all(this.handles.map((h) => h.worker.terminate()));
  }
}
