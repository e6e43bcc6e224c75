/**
 * Runs one scenario: stack up, users in, load on schedule, quiet period, final state captured,
 * checkers and thresholds applied, report written. The history is the record of truth; the
 * checks can be repeated offline from the run directory (`--check DIR`).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import type * as Ably from 'ably';
import type { FinalState } from '../history/types.ts';
import { FINAL_STATE_FILE, HistoryWriter, writeFinalState } from '../history/writer.ts';
import type { FaultTargets, QuiesceResult, SystemUnderTest } from '../stack/index.ts';
import { measureFloor } from '../stack/floor.ts';
import { GeneratorHealth } from '../workload/health.ts';
import { Rng } from '../lib/rng.ts';
import type { ChatUser, ReaderClient } from '../workload/user.ts';
import { UserFactory } from './users.ts';
import { heldIn } from '../../reference-app/functions/chat-writer.ts';
import { toInvocationEvent } from './delivery-summary.ts';
import type { FaultSpec } from '../faults/spec.ts';
import type { ExecutorResult } from '../workload/executors.ts';
import { actorsFor, inBatches, type ActorContext } from './actors/index.ts';
import { LiveStats } from './live-stats.ts';
import type { MutantName } from './mutants.ts';
import type { ScenarioDefinition, ScenarioOptions } from './scenario.ts';
import { measurePartCpu } from './part-cpu.ts';

export interface RunInput {
  scenario: ScenarioDefinition;
  options: ScenarioOptions;
  outDir: string;
  stack: SystemUnderTest;
  mutants: readonly MutantName[];
  /** Faults the nemesis injects during the load, timed from its start. */
  faults?: readonly FaultSpec[];
  /** The parts the faults break; absent where the harness owns none (a fault is then refused). */
  faultTargets?: FaultTargets;
  /** Longest wait for the stack to go quiet after the load. */
  quietTimeoutMs?: number;
  progress?: (line: string) => void;
}

export interface RunOutput {
  historyPath: string;
  finalStatePath: string;
  executor: ExecutorResult;
  /** The main thread's own health (each worker's is in the history). */
  generator: { worstEventLoopDelayP99Ms: number; worstCpuPercent: number; workers: number; readerClient: ReaderClient };
  /** Faults that could not be injected or undone. */
  faultErrors: string[];
}

const QUIET_GAP_MS = 750;
/** Enough round trips for a stable p50 and a rough p99, in well under a second on an idle stack. */
const FLOOR_SAMPLES = 200;

export async function runWorkload(input: RunInput): Promise<RunOutput> {
  const { scenario: sc, options: o, stack } = input;
  mkdirSync(input.outDir, { recursive: true });
  const historyPath = join(input.outDir, 'history.ndjson');
  const writer = await HistoryWriter.open(historyPath, {
    scenario: sc.name,
    seed: o.seed,
    options: { ...o, mutants: input.mutants, executor: sc.executor(o) },
  });
  const stats = new LiveStats(writer);
  // Every invocation of the integration, so the report can show what the writer saw (order, duplicates, retries).
  const stopInvocations = stack.rules?.onInvocation((r) => stats.record(toInvocationEvent(r, writer.epochMs, { countInResult: heldIn })));
  const rng = new Rng(o.seed);
  const runTag = (o.seed >>> 0).toString(36).slice(-4) + Date.now().toString(36).slice(-4);
  const rooms = Array.from({ length: o.rooms }, (_, i) => `${runTag}-room${i}`);
  const ignoreVersions = input.mutants.includes('view-no-version-check');
  const clientOptions: Ably.ClientOptions = {
    ...stack.realtimeClientOptions,
    ...(sc.client?.disconnectedRetryTimeoutMs ? { disconnectedRetryTimeout: sc.client.disconnectedRetryTimeoutMs } : {}),
  };
  const users = new UserFactory({
    stack,
    clientOptions,
    stats,
    ignoreVersions,
    ...(o.workers !== undefined ? { workers: o.workers } : {}),
    ...(o.readerClient ? { readerClient: o.readerClient } : {}),
  });
  try {
    return await drive(input, { writer, stats, users, rng, runTag, rooms, historyPath, stopInvocations });
  } finally {
    await users.stop();
  }
}

interface RunContext {
  writer: HistoryWriter;
  stats: LiveStats;
  users: UserFactory;
  rng: Rng;
  runTag: string;
  rooms: string[];
  historyPath: string;
  stopInvocations: (() => void) | undefined;
}

async function drive(input: RunInput, ctx: RunContext): Promise<RunOutput> {
  const { scenario: sc, options: o, stack } = input;
  const { writer, stats, users, rng, runTag, rooms, historyPath, stopInvocations } = ctx;
  const say = input.progress ?? (() => {});
  const pool = users.pool;
  const readerClient = users.readerClient;
  const shared: ActorContext = { rooms, runTag, durationMs: o.durationMs, users, stats, rng, say, late: [], gone: new Set(), quietRooms: [] };
  const { load, others, faultErrors } = actorsFor(shared, sc, o, { sut: stack, targets: input.faultTargets ?? {}, realtime: stack.realtimeClientOptions, faults: input.faults ?? [] });
  const { late, gone } = shared;
  const everyone: ChatUser[] = [...load.users, ...others.flatMap((a) => a.users ?? [])];
  say(`joining ${everyone.length} users in ${rooms.length} rooms (${users.describe()})`);
  await inBatches(everyone, 20, (u) => u.join());
  await recordFloor(stack.endpoints.databaseUrl, stats, say);

  const health = new GeneratorHealth(stats, 1000, 'main');
  const cpuAtStart = process.cpuUsage();
  const partCpu = measurePartCpu(() => stack.processes?.() ?? []);
  const windowStart = stats.now();
  health.start();
  await pool?.startHealth();
  for (const a of others) a.start();
  load.start();
  const executor = await load.done();
  for (const a of others) a.stop();
  // A worker that died took its users' clients with it: what follows would judge a gap, not the stack.
  if (pool?.failure) throw new Error(`a virtual-user worker failed during the load: ${pool.failure.message}`);
  for (const a of others) await a.settle();

  say('load done; waiting for the stack to go quiet');
  let quiet = await stack.quiesce(input.quietTimeoutMs ?? 20_000);
  if (stack.destination?.replayWhenQuiet) quiet = await replayDestination(stack, say, input.quietTimeoutMs ?? 20_000, quiet);
  const receivesQuiet = await quietReceives(stats, input.quietTimeoutMs ?? 20_000);
  const waiting = [...quiet.waiting, ...(receivesQuiet ? [] : ['client deliveries'])];
  // The checkers read this: without it, anything still in flight at the deadline would count as lost.
  stats.record({ type: 'settle', t: stats.now(), settled: waiting.length === 0, waiting });
  if (waiting.length) say(`the stack did not settle in time (still busy: ${waiting.join(', ')}); missing deliveries will be judged unknown`);
  health.sample();
  health.stop();
  const workerThreads = (await pool?.stopHealth()) ?? [];
  const cpu = process.cpuUsage(cpuAtStart);
  stats.record({
    t: stats.now(),
    type: 'generator',
    workers: pool?.size ?? 0,
    readerClient,
    windowMs: stats.now() - windowStart,
    processCpuUs: cpu.user + cpu.system,
    // With a worker pool only the actors' own clients (hostile ones) run in the main thread.
    threads: [{ thread: 'main', busyUs: health.busyUs(), users: pool ? everyone.length - load.users.length : everyone.length }, ...workerThreads],
    parts: partCpu(),
  });

  // Who left owes no final view; everyone still here must match the database, once reconnected and caught up.
  const present = () => [...everyone, ...late].filter((u) => !gone.has(u));
  await Promise.all(present().map((u) => u.settled()));
  const losses = [...everyone, ...late].reduce((n, u) => n + u.continuityLosses, 0);
  if (losses) say(`${losses} reattachments without continuity; those clients read their room back from the database`);
  for (const u of [...everyone, ...late]) for (const e of u.catchUpErrors) say(`catch-up of ${u.clientId} failed: ${e}`);
  await Promise.all(present().map((u) => u.recordView()));
  const final = await captureFinalState(stack.endpoints.databaseUrl, [...rooms, ...shared.quietRooms], writer.epochMs);
  const finalStatePath = join(input.outDir, FINAL_STATE_FILE);
  await writeFinalState(finalStatePath, final);
  for (const a of others) a.judge?.(final);
  stopInvocations?.();
  await inBatches(present(), 50, (u) => u.leave());
  await users.stop();
  await writer.close();
  return {
    historyPath,
    finalStatePath,
    executor,
    generator: { worstEventLoopDelayP99Ms: health.worst.eventLoopDelayP99Ms, worstCpuPercent: health.worst.cpuPercent, workers: users.workers, readerClient },
    faultErrors,
  };
}

/**
 * The floor on this run's own Postgres, just before the load: the report reads e2e as a ratio to
 * it. A floor that cannot be measured leaves the ratio out; it never fails the run.
 */
async function recordFloor(databaseUrl: string, stats: LiveStats, say: (line: string) => void): Promise<void> {
  try {
    const f = await measureFloor(databaseUrl, { samples: FLOOR_SAMPLES, warmup: 20, gapMs: 1, timeoutMs: 10_000 });
    stats.record({ type: 'floor', t: stats.now(), ...f });
    say(`floor (INSERT -> pg_notify -> LISTEN -> one WebSocket hop): p50 ${f.p50Ms} ms, p99 ${f.p99Ms} ms over ${f.samples} round trips`);
  } catch (err) {
    say(`floor not measured: ${(err as Error).message}`);
  }
}

/**
 * What a user with an on-failure destination does once the database is back: replay it. Only
 * after the first quiet are all given-up events in the destination; the replayed writes then
 * need their own quiet (the connector publishes them).
 */
async function replayDestination(stack: SystemUnderTest, say: (line: string) => void, timeoutMs: number, first: QuiesceResult): Promise<QuiesceResult> {
  const r = await stack.destination!.replay();
  say(`on-failure destination replayed: ${r.replayed} events, ${r.succeeded} succeeded, ${r.failed} failed and put back${r.errors[0] ? ` (first error: ${r.errors[0]})` : ''}`);
  if (r.replayed === 0) return first;
  const again = await stack.quiesce(timeoutMs);
  return r.failed ? { settled: false, waiting: [...again.waiting, `on-failure destination: ${r.failed} events failed again`] } : again;
}

/** Waits until no event has arrived for a short gap: true, or false when the deadline passed first. */
async function quietReceives(stats: LiveStats, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  let last = stats.delivered;
  let lastChange = performance.now();
  while (performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    if (stats.delivered !== last) {
      last = stats.delivered;
      lastChange = performance.now();
    } else if (performance.now() - lastChange >= QUIET_GAP_MS) return true;
  }
  return false;
}

export async function captureFinalState(databaseUrl: string, rooms: string[], epochMs: number): Promise<FinalState> {
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    const rows = await c.query<{ id: string; room: string; author: string; text: string; version: number; deleted: boolean; c: string; u: string; s: string | null }>(
      `SELECT id, room, author, text, version, deleted, (extract(epoch FROM sent_at) * 1000)::float8 AS s,
              (extract(epoch FROM created_at) * 1000)::float8 AS c, (extract(epoch FROM updated_at) * 1000)::float8 AS u
         FROM chat_messages WHERE room = ANY($1) ORDER BY created_at, id`,
      [rooms],
    );
    const rej = await c.query<{ message_id: string; room: string | null; author: string | null; name: string | null; reason: string }>(
      'SELECT message_id, room, author, name, reason FROM chat_write_rejections WHERE room = ANY($1) OR room IS NULL ORDER BY seq',
      [rooms],
    );
    return {
      rows: rows.rows.map((r) => ({
        id: r.id,
        room: r.room,
        author: r.author,
        text: r.text,
        version: r.version,
        deleted: r.deleted,
        createdT: Number(r.c) - epochMs,
        updatedT: Number(r.u) - epochMs,
        ...(r.s !== null ? { sentT: Number(r.s) - epochMs } : {}),
      })),
      rejections: rej.rows.map((r) => ({ messageId: r.message_id, room: r.room, author: r.author, name: r.name, reason: r.reason })),
    };
  } finally {
    await c.end();
  }
}
