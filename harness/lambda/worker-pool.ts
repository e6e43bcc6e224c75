/**
 * A function's instances: worker threads, each loading the handler module once and running one
 * invocation at a time. An invocation goes to an idle worker or waits for one, so N workers run
 * N invocations in parallel, like N warm Lambda execution environments.
 */
import { Worker } from 'node:worker_threads';
import type { RunOutcome } from './context.ts';
import type { Executor, RunRequest } from './executor.ts';
import { workerReplySchema, type WorkerData } from './worker-protocol.ts';

const BOOT = new URL('./worker-boot.mjs', import.meta.url);

interface Pending {
  id: number;
  resolve: (o: RunOutcome) => void;
}

class Instance {
  current: Pending | undefined;
  constructor(readonly worker: Worker) {}
}

export class WorkerPool implements Executor {
  private readonly idle: Instance[] = [];
  private readonly waiters: Array<(i: Instance | undefined) => void> = [];
  private readonly all = new Set<Instance>();
  private nextId = 1;
  private closed = false;

  private constructor(
    private readonly data: WorkerData,
    private readonly env: Record<string, string>,
  ) {}

  /** Starts `size` workers and resolves once every one has loaded the handler (the cold starts happen here). */
  static async start(data: WorkerData, env: Record<string, string>, size: number): Promise<WorkerPool> {
    const pool = new WorkerPool(data, env);
    try {
      await Promise.all(Array.from({ length: size }, () => pool.spawn()));
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  get size(): number {
    return this.all.size;
  }

  async invoke(req: RunRequest, deadline: number): Promise<RunOutcome> {
    const inst = await this.acquire();
    if (!inst) return exitError('the runtime is shutting down');
    const id = this.nextId++;
    const outcome = new Promise<RunOutcome>((resolve) => (inst.current = { id, resolve }));
    inst.worker.postMessage({ id, requestId: req.requestId, deadline, event: req.event, ...(req.clientContext !== undefined ? { clientContext: req.clientContext } : {}) });
    return outcome;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w(undefined);
    await Promise.all([...this.all].map((i) => i.worker.terminate()));
    this.all.clear();
  }

  private acquire(): Promise<Instance | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    const free = this.idle.pop();
    if (free) return Promise.resolve(free);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private release(inst: Instance): void {
    inst.current = undefined;
    if (this.closed || !this.all.has(inst)) return;
    const waiter = this.waiters.shift();
    if (waiter) waiter(inst);
    else this.idle.push(inst);
  }

  private spawn(): Promise<void> {
    const worker = new Worker(BOOT, { workerData: this.data, env: { ...process.env, ...this.env }, stdout: false, stderr: false });
    const inst = new Instance(worker);
    return new Promise<void>((resolve, reject) => {
      let ready = false;
      worker.on('message', (raw: unknown) => {
        const m = workerReplySchema.safeParse(raw);
        if (!m.success) return;
        const msg = m.data;
        if (msg.type === 'ready') {
          ready = true;
          this.all.add(inst);
          this.release(inst);
          resolve();
        } else if (msg.type === 'init-error') {
          reject(new Error(`function ${this.data.functionName}: ${msg.message}`));
          void worker.terminate();
        } else if (inst.current?.id === msg.id) {
          const done = inst.current;
          this.release(inst);
          done.resolve('json' in msg ? { ok: true, payload: JSON.parse(msg.json) as unknown } : msg.outcome);
        }
      });
      // A crashed instance fails its invocation (as Runtime.ExitError does on AWS) and is replaced by a cold one.
      const lost = (why: string) => {
        if (!ready) return reject(new Error(`function ${this.data.functionName}: worker failed to start: ${why}`));
        const wasKnown = this.all.delete(inst);
        const idleAt = this.idle.indexOf(inst);
        if (idleAt >= 0) this.idle.splice(idleAt, 1);
        inst.current?.resolve(exitError(why));
        inst.current = undefined;
        if (wasKnown && !this.closed) void this.spawn().catch(() => undefined);
      };
      worker.once('error', (err) => lost(err.message));
      worker.once('exit', (code) => lost(`worker exited with code ${code}`));
    });
  }
}

function exitError(why: string): RunOutcome {
  return { ok: false, errorType: 'Runtime.ExitError', errorMessage: `RequestId: the runtime exited: ${why}`, trace: [] };
}
