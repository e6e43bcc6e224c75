/**
 * The history: an append-only log (NDJSON, one event per line) of everything a run did and saw.
 * Every `t` is milliseconds on one monotonic clock, relative to the run's start
 * (`performance.now() - t0`). Wall-clock values from other processes (database commit times,
 * realtime server timestamps) are converted to the same axis with `epochToRun()`.
 *
 * Checkers depend on this file only.
 */

export type OpKind = 'post' | 'edit' | 'delete' | 'typing' | 'join' | 'leave';
export type ChangeName = 'INSERT' | 'UPDATE' | 'DELETE';

interface Base {
  /** ms since run start, monotonic. */
  t: number;
}

/** Run header: the first line of every history. */
export interface RunStartEvent extends Base {
  type: 'run-start';
  scenario: string;
  seed: number;
  /** Wall-clock epoch ms corresponding to t = 0. */
  epochMs: number;
  options: Record<string, unknown>;
}

/** A client began an operation (the publish call for post/edit/delete/typing). */
export interface InvokeEvent extends Base {
  type: 'invoke';
  opId: string;
  op: OpKind;
  client: string;
  room: string;
  /** post: the id the client gave its message; edit/delete: the message targeted. */
  messageId?: string;
  text?: string;
}

/** The realtime service acknowledged the publish (or the join/leave completed). */
export interface AckEvent extends Base {
  type: 'ack';
  opId: string;
}

/** The operation failed (NACK, timeout, client error). */
export interface FailEvent extends Base {
  type: 'fail';
  opId: string;
  error: string;
}

/** An open-loop executor could not start an operation on schedule. */
export interface DroppedEvent extends Base {
  type: 'dropped';
  op: OpKind;
  reason: string;
}

/** A subscriber became attached to (or left) a room's incoming channel. */
export interface SubscribeEvent extends Base {
  type: 'subscribe' | 'unsubscribe';
  client: string;
  room: string;
}

/** A subscriber received a change event on a room's incoming channel. */
export interface ReceiveEvent extends Base {
  type: 'receive';
  client: string;
  room: string;
  /** Id of the incoming realtime message (stable per change: duplicates share it). */
  eventId: string;
  name: ChangeName;
  messageId: string;
  version: number;
  deleted: boolean;
  text: string;
  author: string;
  /** Row's updated_at (commit-side database clock), on the run's axis. */
  commitT?: number;
  /** Realtime service's timestamp of the connector's publish, on the run's axis. */
  publishT?: number;
  /**
   * The change's place in the database's commit order, as the connector read it from its outbox:
   * (commit number, outbox sequence), compared element by element. Absent from connectors that
   * do not send one.
   */
  position?: number[];
  /** Whether the client's view applied it (false: ignored as stale or duplicate). */
  applied: boolean;
}

/**
 * Whether the stack went quiet after the load, before the final state was read. When it did not,
 * a change not yet delivered may still have been on its way: checkers then say "unknown", not "lost".
 */
export interface SettleEvent extends Base {
  type: 'settle';
  settled: boolean;
  /** Parts still busy at the deadline (e.g. "connector backlog", "client deliveries"). */
  waiting: string[];
}

/** A fault (nemesis) window. */
export interface FaultEvent extends Base {
  type: 'fault';
  name: string;
  phase: 'start' | 'end';
  detail?: string;
}

/** One row of a client's local view. */
export interface ViewRow {
  id: string;
  text: string;
  version: number;
  deleted: boolean;
  author: string;
}

/** A client's final local view of a room, after the quiet period. */
export interface ViewEvent extends Base {
  type: 'view';
  client: string;
  room: string;
  rows: ViewRow[];
}

/** One row of a history page, as the endpoint sent it. */
export interface HistoryPageRow extends ViewRow {
  /** The row's created_at (the endpoint's order key, with its id), on the run's axis. */
  createdT: number;
}

/**
 * One page a client read from the history endpoint (`t`: when the answer arrived). The pages of
 * one read (a join, a catch-up) share `read` and are numbered from 0 in the order requested.
 */
export interface HistoryPageEvent extends Base {
  type: 'history-page';
  client: string;
  room: string;
  read: string;
  page: number;
  /** When the request was sent. */
  sentT: number;
  limit: number;
  /** The endpoint said there is an older page (`next` was not null). */
  more: boolean;
  rows: HistoryPageRow[];
}

/** Generator health sample (event-loop delay, CPU) taken during the run. */
export interface HealthEvent extends Base {
  type: 'health';
  eventLoopDelayP99Ms: number;
  /** CPU of the sampled thread (its share of one core, percent); the whole process's in histories without `thread`. */
  cpuPercent: number;
  /** The generator thread sampled: `main` or `worker-N` (absent in histories before worker threads). */
  thread?: string;
}

/**
 * A client tried something its token must allow or must refuse (e.g. publishing on a room's
 * incoming channel), to verify the capability the token endpoint issues.
 */
export interface ProbeEvent extends Base {
  type: 'probe';
  client: string;
  /** What was tried, e.g. "publish chat:lobby:incoming". */
  action: string;
  expected: 'allowed' | 'refused';
  outcome: 'allowed' | 'refused';
  /** The service's answer when refused (e.g. "40160 ..."). */
  error?: string;
}

/**
 * One phase of one invocation of the integration rule (realtime service -> Lambda): when it was
 * scheduled, started, finished (with its outcome), scheduled for a retry, or given up (dropped).
 * From these the report measures how often the writer saw messages out of order or twice.
 */
export interface InvocationEvent extends Base {
  type: 'invocation';
  invocationId: string;
  /** One envelope; a duplicate invocation shares it with the original. */
  envelopeId: string;
  channel: string;
  /** Realtime message ids (= the operations' opIds) in the envelope, in publish order. */
  messageIds: string[];
  phase: 'scheduled' | 'started' | 'finished' | 'retry-scheduled' | 'dropped';
  attempt: number;
  duplicate: boolean;
  outcome?: 'ok' | 'function-error' | 'throttled' | 'transport-error';
  error?: string;
  /** Edits/deletes the writer held because their post had not arrived yet (finished, ok). */
  held?: number;
}

/**
 * What the load generator itself cost, recorded once after the load: CPU of the whole harness
 * process and of each generator thread over the same window.
 */
export interface GeneratorCostEvent extends Base {
  type: 'generator';
  /** Worker threads that ran virtual users (0: all in the main thread). */
  workers: number;
  readerClient: 'sdk' | 'light';
  /** Length of the measured window (load start to quiet), ms. */
  windowMs: number;
  /** user + system CPU of the harness process over the window (every thread, and any stack part it hosts), µs. */
  processCpuUs: number;
  /** Per thread: its own CPU time over the window, µs (event-loop busy time where /proc is missing), and the users it ran. */
  threads: Array<{ thread: string; busyUs: number; users: number }>;
  /** CPU of each stack part's process tree over the same window, ms (absent in older histories and against a target). */
  parts?: Array<{ part: string; cpuMs: number }>;
}

/**
 * The floor measured in this run, just before the load, on the stack's own Postgres: INSERT ->
 * trigger pg_notify -> LISTEN -> one WebSocket hop, one round trip at a time. Milliseconds.
 */
export interface FloorEvent extends Base {
  type: 'floor';
  samples: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  minMs: number;
}

/**
 * One class of attack of the abuse scenario, tallied once its attacker stopped: how often it was
 * tried, how often the stack refused it and with which codes (Ably's, AWS's or WebSocket close
 * codes), and what got through that the limit should have refused.
 */
export interface AttackEvent extends Base {
  type: 'attack';
  /** e.g. "flood-raw", "lambda-forged-signature". */
  attack: string;
  description: string;
  attempts: number;
  refused: number;
  /** Refusals by code, as strings ("42911", "InvalidSignatureException", "ws-1009"). */
  codes: Record<string, number>;
  /** Codes the limit answers with; a refusal with another code is a wrong answer. */
  expectedCodes: string[];
  /** Attempts the stack accepted that its limits allow (a flood's first messages of each second). */
  allowed: number;
  /** Attempts the stack accepted that its limits should have refused. */
  unexpected: number;
  detail?: string;
}

/** Resident memory of each stack process, sampled about once a second during the run. */
export interface ResourcesEvent extends Base {
  type: 'resources';
  parts: Array<{ part: string; rssMiB: number }>;
}

export interface RunEndEvent extends Base {
  type: 'run-end';
}

export type HistoryEvent =
  | RunStartEvent
  | InvokeEvent
  | AckEvent
  | FailEvent
  | DroppedEvent
  | SubscribeEvent
  | ReceiveEvent
  | FaultEvent
  | ViewEvent
  | HistoryPageEvent
  | HealthEvent
  | ProbeEvent
  | InvocationEvent
  | SettleEvent
  | GeneratorCostEvent
  | FloorEvent
  | AttackEvent
  | ResourcesEvent
  | RunEndEvent;

/** A row of chat_messages as captured at the end of a run. */
export interface DbRow {
  id: string;
  room: string;
  author: string;
  text: string;
  version: number;
  deleted: boolean;
  createdT: number;
  updatedT: number;
  /** When the realtime service stamped the post (the chat's send order); absent on older rows. */
  sentT?: number;
}

export interface DbRejection {
  messageId: string;
  room: string | null;
  author: string | null;
  name: string | null;
  reason: string;
}

/** The database after the quiet period: the single source of truth the views must equal. */
export interface FinalState {
  rows: DbRow[];
  rejections: DbRejection[];
}

export type Validity = true | false | 'unknown';

export interface CheckResult {
  name: string;
  valid: Validity;
  details: Record<string, unknown>;
  /** Run time (ms) of the first violating event, when there is one. */
  failedAt?: number;
}

export type Checker = (history: readonly HistoryEvent[], final: FinalState) => Omit<CheckResult, 'name'>;

export function epochToRun(epochMs: number, runEpochMs: number): number {
  return epochMs - runEpochMs;
}
