/**
 * The harness side of a stack part running as its own OS process (`node --import tsx <entry>`):
 * starts it, sends its config over IPC, waits for `ready` (with the child's stderr tail in any
 * error), then offers typed requests and event subscriptions, validated against the part's spec.
 * Stopping is SIGTERM, then SIGKILL if it hangs. The child exits by itself when the IPC channel
 * closes, so it does not outlive the harness even when the harness is killed with SIGKILL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { childMessage, describeIssue, parseOrThrow, type EventData, type Params, type PartSpec, type Result } from './part-protocol.ts';
import { killSync, registerCleanup } from '../lib/cleanup.ts';
import { cpuProfFlags } from '../lib/cpu-prof.ts';
import { SUBSCRIBE } from './part-child.ts';
import type { z } from 'zod';

interface Pending {
  method: string;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class PartProcess<S extends PartSpec> {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Map<string, Set<(data: unknown) => void>>();
  private nextId = 1;
  private stderrTail = '';
  private unregister: (() => void) | undefined;

  constructor(
    readonly name: string,
    private readonly entry: string,
    private readonly spec: S,
    private readonly config: z.input<S['init']>,
    /** Node flags for the part, e.g. heap sizing. */
    private readonly nodeFlags: readonly string[] = [],
  ) {
    // A config mistake is the harness's own: say so here rather than in a child's stderr.
    parseOrThrow(spec.init, config, `${name} config`);
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  async start(timeoutMs = 30_000): Promise<z.output<S['ready']>> {
    if (this.running) throw new Error(`${this.name} is already running`);
    const child = spawn(process.execPath, [...this.nodeFlags, ...cpuProfFlags(this.name), '--import', 'tsx', this.entry], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    this.child = child;
    this.unregister = registerCleanup({ name: this.name, stop: () => this.stop(), stopSync: () => killSync(child.pid, 'SIGKILL') });
    this.stderrTail = '';
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const keep = (s: string) => {
      this.stderrTail = (this.stderrTail + s).slice(-4000);
      if (process.env.LOG_LEVEL) process.stderr.write(s);
    };
    // Both pipes must be read, or a chatty child blocks on a full pipe.
    // A failed spawn or a send to a child that just died: reported through exit and the tail, never thrown.
    child.on('error', (err) => keep(`${err.message}\n`));
    child.stdout!.setEncoding('utf8').on('data', keep);
    child.stderr!.setEncoding('utf8').on('data', keep);
    child.once('exit', (code, signal) => this.failAll(new Error(`${this.name} exited (${signal ?? `code ${code}`})${this.tail()}`)));
    const ready = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: not ready after ${timeoutMs} ms${this.tail()}`)), timeoutMs);
      child.on('message', (raw: unknown) => {
        const parsed = childMessage.safeParse(raw);
        if (!parsed.success) return void process.stderr.write(`${this.name}: bad message: ${describeIssue(parsed.error)}\n`);
        const m = parsed.data;
        if (m.type === 'ready') (clearTimeout(timer), resolve(m.info));
        else if (m.type === 'failed') (clearTimeout(timer), reject(new Error(`${this.name}: ${m.error}${this.tail()}`)));
        else if (m.type === 'response') this.settle(m.id, m.ok, m.result, m.error);
        else this.dispatch(m.name, m.data);
      });
      child.once('exit', (code, signal) => (clearTimeout(timer), reject(new Error(`${this.name} exited before it was ready (${signal ?? `code ${code}`})${this.tail()}`))));
    });
    child.send({ type: 'init', config: this.config });
    try {
      const info = parseOrThrow(this.spec.ready, await ready, `${this.name} ready`) as z.output<S['ready']>;
      for (const event of this.listeners.keys()) void this.call(SUBSCRIBE, { event, on: true }).catch(() => undefined);
      return info;
    } catch (err) {
      killSync(child.pid, 'SIGKILL');
      await this.exited;
      this.unregister();
      throw err;
    }
  }

  async request<M extends keyof S['methods'] & string>(method: M, params: Params<S, M>, timeoutMs = 60_000): Promise<Result<S, M>> {
    const m = this.spec.methods[method]!;
    const raw = await this.call(method, parseOrThrow(m.params, params, `${this.name}.${method}`), timeoutMs);
    return parseOrThrow(m.result, raw, `${this.name}.${method} result`) as Result<S, M>;
  }

  /** Streams one kind of event from the part; the part only sends it while someone listens. */
  on<E extends keyof S['events'] & string>(event: E, listener: (data: EventData<S, E>) => void): () => void {
    const schema = this.spec.events[event]!;
    const wrapped = (raw: unknown) => {
      const r = schema.safeParse(raw);
      if (r.success) listener(r.data as EventData<S, E>);
      else process.stderr.write(`${this.name}: bad ${event} event: ${describeIssue(r.error)}\n`);
    };
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
      if (this.running) void this.call(SUBSCRIBE, { event, on: true }).catch(() => undefined);
    }
    set.add(wrapped);
    return () => {
      set.delete(wrapped);
      if (set.size > 0) return;
      this.listeners.delete(event);
      if (this.running) void this.call(SUBSCRIBE, { event, on: false }).catch(() => undefined);
    };
  }

  /** SIGTERM (the part stops its servers and workers), SIGKILL if it has not exited within `timeoutMs`. */
  async stop(timeoutMs = 10_000): Promise<void> {
    this.unregister?.();
    if (!this.running) return;
    this.child!.kill('SIGTERM');
    const timer = setTimeout(() => killSync(this.child?.pid, 'SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** A crash: SIGKILL. Resolves once the process is gone. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.child!.kill('SIGKILL');
    await this.exited;
  }

  private call(method: string, params: unknown, timeoutMs = 60_000): Promise<unknown> {
    const child = this.child;
    if (!child || !this.running || !child.connected) return Promise.reject(new Error(`${this.name} is not running`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name}.${method}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { method, resolve, reject, timer });
      child.send({ type: 'request', id, method, params });
    });
  }

  private settle(id: number, ok: boolean, result: unknown, error: string | undefined): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    if (ok) p.resolve(result);
    else p.reject(new Error(`${this.name}.${p.method}: ${error ?? 'failed'}`));
  }

  private dispatch(event: string, data: unknown): void {
    for (const l of this.listeners.get(event) ?? []) {
      try {
        l(data);
      } catch (err) {
        process.stderr.write(`${this.name}: ${event} listener threw: ${String(err)}\n`);
      }
    }
  }

  private failAll(err: Error): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(err);
      this.pending.delete(id);
    }
  }

  private tail(): string {
    const t = this.stderrTail.trim().split('\n').slice(-3).join(' | ');
    return t ? `: ${t}` : '';
  }
}
