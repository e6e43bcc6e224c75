/**
 * The real side of the model-based test: virtual users (real ably clients signed in through the
 * token endpoint) in this run's own rooms on a shared stack, the history they record, and the
 * end of a run: settle the faults, wait for quiet, capture the database, run the checkers.
 */
import pg from 'pg';
import { CHECKER_NAMES, runCheckers, type CheckerName } from '../../../harness/checks/index.ts';
import type { CheckResult, FinalState, HistoryEvent } from '../../../harness/history/types.ts';
import { captureFinalState } from '../../../harness/runner/run.ts';
import type { StartedStack } from '../../../harness/stack/index.ts';
import { MemoryRecorder, type RecordedEvent } from '../../../harness/workload/recorder.ts';
import { VirtualUser } from '../../../harness/workload/virtual-user.ts';
import type { HistoryGate } from './history-gate.ts';
import { modelMismatches, ROOMS, type ChatModel } from './model.ts';

/** What a property run needs from the process around it: one stack, shared by every run. */
export interface StackContext {
  stack: StartedStack;
  gate: HistoryGate;
  /** The client-side mutant: views apply every event without comparing versions. */
  ignoreVersions: boolean;
}

/** Checkers that judge nothing about correctness: latency (thresholds do) and per-author order (a figure). */
const NOT_JUDGED = new Set<CheckerName>(['latency', 'per-author-order']);
export const JUDGED = CHECKER_NAMES.filter((n) => !NOT_JUDGED.has(n));

/** Views behind the database: keep waiting while receipts still arrive, up to the longest wait. */
const QUIET_IDLE_MS = 1500;
const QUIET_MAX_MS = 8000;
const STRAGGLER_GAP_MS = 100;
export const OP_TIMEOUT_MS = 20_000;

/** A recorder that can wake a waiter when an event arrives, so waits need no sleeping loop. */
export class WatchedRecorder extends MemoryRecorder {
  private readonly listeners = new Set<() => void>();

  override record(e: RecordedEvent): void {
    super.record(e);
    for (const l of [...this.listeners]) l();
  }

  /** Resolves true once `pred` holds (checked now and at each event), false at the deadline. */
  waitFor(pred: () => boolean, timeoutMs: number): Promise<boolean> {
    if (pred()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (v: boolean) => {
        this.listeners.delete(check);
        clearTimeout(timer);
        resolve(v);
      };
      const check = () => {
        if (pred()) done(true);
      };
      const timer = setTimeout(() => done(false), timeoutMs);
      this.listeners.add(check);
    });
  }

  outcome(opId: string): 'ack' | 'fail' | 'pending' {
    for (let i = this.events.length - 1; i >= 0; i--) {
      const e = this.events[i]!;
      if ((e.type === 'ack' || e.type === 'fail') && e.opId === opId) return e.type;
    }
    return 'pending';
  }
}

export interface Verdict {
  ok: boolean;
  checks: CheckResult[];
  modelMismatches: string[];
  final: FinalState;
}

export class World {
  readonly rec = new WatchedRecorder();
  readonly transcript: string[] = [];
  readonly rooms: string[];
  private readonly users = new Map<string, VirtualUser>();
  private readonly everyone: VirtualUser[] = [];
  private readonly pending: Array<Promise<unknown>> = [];
  private seq = 0;
  private step = 0;

  constructor(
    readonly ctx: StackContext,
    /** Prefix of this run's rooms, users and message ids: runs on one stack never meet. */
    readonly tag: string,
  ) {
    this.rooms = Array.from({ length: ROOMS }, (_, i) => `${tag}r${i}`);
  }

  get stack(): StartedStack {
    return this.ctx.stack;
  }

  userName(i: number): string {
    return `${this.tag}u${i}`;
  }

  /** Zero-padded, so that ids sort in the order they were made. */
  nextId(kind: 'p' | 'e' | 'd' | 'x'): string {
    return `${this.tag}-${kind}${String(++this.seq).padStart(4, '0')}`;
  }

  /** A transcript line, with this run's prefix left out so that it reads as u1, r0, p0003. */
  log(line: string): void {
    this.transcript.push(`${String(++this.step).padStart(3)}. ${this.short(line)}`);
  }

  note(line: string): void {
    this.transcript.push(`     ${this.short(line)}`);
  }

  short(s: string): string {
    return s.split(`${this.tag}-`).join('').split(this.tag).join('');
  }

  user(name: string): VirtualUser {
    const u = this.users.get(name);
    if (!u) throw new Error(`no joined user ${name}`);
    return u;
  }

  async join(name: string, room: number, opts: { history?: boolean } = {}): Promise<VirtualUser> {
    const { stack } = this;
    const vu = new VirtualUser({
      clientId: name,
      room: this.rooms[room]!,
      realtime: stack.realtimeClientOptions,
      auth: { kind: 'session', loginUrl: stack.endpoints.loginUrl, tokenUrl: stack.endpoints.tokenUrl },
      recorder: this.rec,
      ignoreVersions: this.ctx.ignoreVersions,
      publishTimeoutMs: OP_TIMEOUT_MS,
      ...(opts.history ? { historyUrl: this.ctx.gate.url } : {}),
    });
    this.everyone.push(vu);
    await withTimeout(vu.join(), OP_TIMEOUT_MS, `join of ${this.short(name)}`);
    this.users.set(name, vu);
    return vu;
  }

  async leave(name: string): Promise<void> {
    const vu = this.user(name);
    this.users.delete(name);
    await withTimeout(vu.leave(), OP_TIMEOUT_MS, `leave of ${this.short(name)}`);
  }

  /** While delivery is paused no ack can arrive: the operation runs on, awaited at resume. */
  track(p: Promise<unknown>): void {
    this.pending.push(p);
  }

  async flushPending(): Promise<void> {
    const all = this.pending.splice(0);
    await withTimeout(Promise.all(all), OP_TIMEOUT_MS + 5000, 'operations started during the pause');
  }

  /** Ends every fault the sequence left on, as the end of a run must. */
  async settle(model: ChatModel): Promise<void> {
    if (model.paused) {
      this.log('(end of sequence) resume delivery');
      await this.stack.realtime!.admin.resumeDelivery();
      model.paused = false;
      await this.flushPending();
    }
    if (model.connectorDown) {
      this.log('(end of sequence) start the connector');
      await this.stack.connectorControl!.start();
      model.connectorDown = false;
    }
  }

  /**
   * Quiet: nothing queued in the stack, every joined view holding each row's database version,
   * then no receipt for a short gap. Views are polled (no event says "caught up"); a view still
   * behind is given up on once no receipt arrived for a while (a change that was lost), but not
   * while receipts keep coming (a slow machine), up to the longest wait.
   */
  async quiet(): Promise<void> {
    await this.stack.quiesce(10_000);
    const db = new pg.Client({ connectionString: this.stack.endpoints.databaseUrl });
    await db.connect();
    try {
      const started = performance.now();
      let seen = this.rec.events.length;
      let progressAt = started;
      while (!(await this.viewsCaughtUp(db))) {
        const now = performance.now();
        if (this.rec.events.length !== seen) [seen, progressAt] = [this.rec.events.length, now];
        if (now - progressAt > QUIET_IDLE_MS || now - started > QUIET_MAX_MS) break;
        await new Promise((r) => setTimeout(r, 30));
      }
    } finally {
      await db.end();
    }
    let last = this.rec.events.length;
    for (let i = 0; i < 10; i++) {
      await new Promise((r) => setTimeout(r, STRAGGLER_GAP_MS));
      if (this.rec.events.length === last) break;
      last = this.rec.events.length;
    }
  }

  private async viewsCaughtUp(db: pg.Client): Promise<boolean> {
    const r = await db.query<{ id: string; room: string; version: number; deleted: boolean }>(
      'SELECT id, room, version, deleted FROM chat_messages WHERE room = ANY($1)',
      [this.rooms],
    );
    for (const vu of this.users.values()) {
      for (const row of r.rows) {
        if (row.room !== vu.room) continue;
        const v = vu.view.get(row.id);
        if (v ? v.version !== row.version || v.deleted !== row.deleted : !row.deleted) return false;
      }
    }
    return true;
  }

  async judge(model: ChatModel): Promise<Verdict> {
    await this.settle(model);
    await this.quiet();
    for (const vu of this.users.values()) vu.recordView();
    const final = await captureFinalState(this.stack.endpoints.databaseUrl, this.rooms, this.rec.epochMs);
    const history: HistoryEvent[] = [
      { type: 'run-start', t: 0, scenario: 'property:chat-model', seed: 0, epochMs: this.rec.epochMs, options: { tag: this.tag } },
      ...this.rec.events,
      { type: 'run-end', t: this.rec.now() },
    ];
    const checks = runCheckers(history, final, { only: JUDGED });
    const mismatches = modelMismatches(model, final.rows, (i) => this.rooms[i]!);
    return { ok: checks.every((c) => c.valid === true) && mismatches.length === 0, checks, modelMismatches: mismatches, final };
  }

  /** Leaves the shared stack as it was found, whatever happened: delivery on, connector up, clients closed. */
  async dispose(): Promise<void> {
    await this.stack.realtime?.admin.resumeDelivery().catch((err: unknown) => this.note(`resume delivery failed: ${String(err)}`));
    const connector = this.stack.connectorControl;
    if (connector && !connector.running) await connector.start().catch((err: unknown) => this.note(`connector restart failed: ${String(err)}`));
    await Promise.allSettled(this.pending.splice(0));
    await Promise.allSettled(this.everyone.map((vu) => withTimeout(vu.leave(), 5000, 'leave')));
    this.users.clear();
  }
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
