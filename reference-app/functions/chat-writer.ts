/**
 * chat-writer: the Lambda that Ably's integration rule invokes for `chat:<room>:outgoing`.
 * It handles every message of the envelope in order, each in its own transaction, and returns
 * only when all database work is done. Bad input becomes a row in chat_write_rejections (and a
 * log line and a counter); only infrastructure failures fail the invocation, so that AWS or the
 * rule retries it, which is harmless because every write is idempotent by message id.
 *
 * AWS entry: `handler`, configured by DATABASE_URL (and optionally CHAT_HOLD_MS, PG_POOL_MAX).
 */
import pg from 'pg';
import { MESSAGE_NAMES } from '../contract/index.ts';
import { parseEnvelope, parseMessage, type ChatOp, type RejectReason, type Rejection } from './envelope.ts';
import { expireHeld, postInOneTrip, insertRejection, rejectHeldFor, writeEditOrDelete, writePost, lockedStart, type HeldSettlement, type Outcome, type Statement, type WriteDefects } from './write-ops.ts';

export interface FunctionLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface ChatWriterOptions {
  databaseUrl: string;
  pool?: pg.Pool;
  logger?: FunctionLogger;
  /** How long an edit/delete waits for its post before it is rejected as unknown_target (default 5 min). */
  holdMs?: number;
  poolMax?: number;
  /** Minimum time between sweeps for expired holds (default 1 s). */
  sweepEveryMs?: number;
  /**
   * Planted defects for the harness's self-check, never set in a deployment: `firstOnly` handles
   * only the first message of an envelope (the original demo), `noAuthorCheck` lets anyone edit,
   * and the write defects of write-ops.ts (WriteDefects).
   */
  plantedDefects?: { firstOnly?: boolean; noAuthorCheck?: boolean } & WriteDefects;
}

export interface MessageResult {
  id: string;
  outcome: Outcome['outcome'];
  reason?: RejectReason;
}

export interface ChatWriterResult {
  results: MessageResult[];
  /** Held edits/deletes that a post in this invocation settled. */
  released: HeldSettlement[];
}

export interface WriterStats {
  invocations: number;
  messages: number;
  applied: number;
  duplicates: number;
  held: number;
  released: number;
  rejected: Record<string, number>;
  expired: number;
}

export type ChatWriter = ((event: unknown, context?: unknown) => Promise<ChatWriterResult>) & {
  stats(): WriterStats;
  close(): Promise<void>;
};

/** How many messages of a chat-writer response were held (edits/deletes that arrived before their post). */
export function heldIn(result: unknown): number {
  const results = (result as { results?: unknown } | null)?.results;
  return Array.isArray(results) ? results.filter((r) => (r as { outcome?: unknown } | null)?.outcome === 'held').length : 0;
}

const DEFAULT_HOLD_MS = 300_000;
const SWEEP_EVERY_MS = 1_000;
const silent: FunctionLogger = { info() {}, warn() {}, error() {} };

export function createChatWriter(opts: ChatWriterOptions): ChatWriter {
  const log = opts.logger ?? silent;
  const ownPool = !opts.pool;
  const pool = opts.pool ?? new pg.Pool({ connectionString: opts.databaseUrl, max: opts.poolMax ?? 10 });
  // An idle client losing its connection (Postgres restart) must not crash the process.
  if (ownPool) pool.on('error', (err) => log.warn({ err: err.message }, 'idle database connection lost'));
  const holdMs = opts.holdMs ?? DEFAULT_HOLD_MS;
  const stats: WriterStats = { invocations: 0, messages: 0, applied: 0, duplicates: 0, held: 0, released: 0, rejected: {}, expired: 0 };
  let lastSweep = 0;

  const countRejection = (r: { id: string; reason: RejectReason }, detail: string) => {
    stats.rejected[r.reason] = (stats.rejected[r.reason] ?? 0) + 1;
    log.warn({ messageId: r.id, reason: r.reason, detail }, 'chat write rejected');
  };

  const handle = async (event: unknown): Promise<ChatWriterResult> => {
    stats.invocations++;
    const results: MessageResult[] = [];
    const released: HeldSettlement[] = [];
    const env = parseEnvelope(event);
    if (!env.ok) {
      const id = `envelope:${Date.now()}`;
      await insertRejection(pool, { id, room: null, author: null, name: null, reason: 'malformed_envelope', detail: env.detail });
      countRejection({ id, reason: 'malformed_envelope' }, env.detail);
      return { results: [{ id, outcome: 'rejected', reason: 'malformed_envelope' }], released };
    }
    const { channel, messages } = env.envelope;
    const count = opts.plantedDefects?.firstOnly ? Math.min(1, messages.length) : messages.length;
    for (let i = 0; i < count; i++) {
      stats.messages++;
      const parsed = parseMessage(messages[i], channel, i);
      if (!parsed.ok) {
        await refuse(parsed.rejection);
        results.push({ id: parsed.rejection.id, outcome: 'rejected', reason: parsed.rejection.reason });
        continue;
      }
      const r = await apply(parsed.op);
      if (r.outcome === 'rejected') countRejection({ id: parsed.op.id, reason: r.reason }, r.detail);
      else if (r.outcome === 'applied') stats.applied++;
      else if (r.outcome === 'duplicate') stats.duplicates++;
      else stats.held++;
      results.push({ id: parsed.op.id, outcome: r.outcome, ...(r.outcome === 'rejected' ? { reason: r.reason } : {}) });
      for (const s of r.settled ?? []) {
        released.push(s);
        stats.released++;
        if (s.outcome === 'rejected' && s.reason) countRejection({ id: s.opId, reason: s.reason }, `held op settled for ${parsed.op.id}`);
      }
    }
    if (Date.now() - lastSweep >= (opts.sweepEveryMs ?? SWEEP_EVERY_MS)) {
      lastSweep = Date.now();
      const n = await expireHeld(pool, holdMs);
      if (n > 0) {
        stats.expired += n;
        stats.rejected.unknown_target = (stats.rejected.unknown_target ?? 0) + n;
        log.warn({ count: n, holdMs }, 'held edits/deletes expired: their post never arrived');
      }
    }
    return { results, released };
  };

  async function refuse(r: Rejection): Promise<void> {
    const settled = await inTransaction(async (c) => {
      await insertRejection(c, r);
      return r.name === MESSAGE_NAMES.post ? rejectHeldFor(c, r.id) : 0;
    });
    countRejection(r, r.detail);
    if (settled > 0) {
      stats.released += settled;
      stats.rejected.target_rejected = (stats.rejected.target_rejected ?? 0) + settled;
      log.warn({ messageId: r.id, count: settled }, 'held edits/deletes rejected with their post');
    }
  }

  async function apply(op: ChatOp): Promise<Outcome & { settled?: HeldSettlement[] }> {
    try {
      if (op.kind === 'post' && (await withClient((c) => postInOneTrip(c, op)))) return { outcome: 'applied', settled: [] };
      // Every write concerning one post, its own or an edit's or delete's, holds that post's lock.
      return await inTransaction(
        async (c, run) => {
          if (op.kind === 'post') {
            const { result, settled } = await writePost(c, op, opts.plantedDefects, run);
            return { ...result, settled };
          }
          if (opts.plantedDefects?.noAuthorCheck) {
            // The defect: the writer acts as whoever wrote the target, trusting the message.
            const owner = await run<{ author: string }>('SELECT author FROM chat_messages WHERE id = $1', [op.target]);
            if (owner.rows[0]) return writeEditOrDelete(c, { ...op, author: owner.rows[0].author }, opts.plantedDefects, run);
          }
          return writeEditOrDelete(c, op, opts.plantedDefects, run);
        },
        op.kind === 'post' ? op.id : op.target,
      );
    } catch (err) {
      // Data errors are about this message and would fail again on retry: refuse it, keep the batch.
      if (isDataError(err)) {
        const detail = (err as Error).message;
        await inTransaction((c) => insertRejection(c, { id: op.id, room: op.room, author: op.author, name: op.name, reason: 'invalid_data', detail }));
        return { outcome: 'rejected', reason: 'invalid_data', detail };
      }
      throw err;
    }
  }

  /**
   * With `lockPostId`, the transaction opens with fn's first statement through `run`, which also
   * takes the post's lock (lockedStart); without, it opens at once.
   */
  async function inTransaction<T>(fn: (c: pg.PoolClient, run: Statement) => Promise<T>, lockPostId?: string): Promise<T> {
    return withClient(async (c) => {
      const start = lockPostId === undefined ? undefined : lockedStart(c, lockPostId);
      if (!start) await c.query('BEGIN');
      const out = await fn(c, start?.run ?? ((sql, params) => c.query(sql, [...params])));
      if (!start || start.begun()) await c.query('COMMIT');
      return out;
    });
  }

  /** A pooled connection for fn; a failure rolls back whatever transaction fn left open. */
  async function withClient<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await pool.connect();
    let broken: Error | undefined;
    // A connection lost while checked out (Postgres restarting) fails the query in progress; the
    // 'error' event it also emits must not crash the process. The client is discarded on release.
    const onError = (err: Error) => (broken ??= err);
    c.on('error', onError);
    try {
      return await fn(c);
    } catch (err) {
      await c.query('ROLLBACK').catch((e: Error) => (broken = e));
      throw err;
    } finally {
      c.off('error', onError);
      c.release(broken);
    }
  }

  // Behind a queue (Ably -> SQS -> event-source mapping) each record's body is one Ably envelope.
  // Records run in order; a failure fails the whole batch, which the queue then receives again.
  const handleAny = async (event: unknown): Promise<ChatWriterResult> => {
    const bodies = sqsBodies(event);
    if (!bodies) return handle(event);
    const all: ChatWriterResult = { results: [], released: [] };
    for (const body of bodies) {
      const r = await handle(body);
      all.results.push(...r.results);
      all.released.push(...r.released);
    }
    return all;
  };

  const writer = handleAny as ChatWriter;
  writer.stats = () => ({ ...stats, rejected: { ...stats.rejected } });
  writer.close = async () => {
    if (ownPool) await pool.end();
  };
  return writer;
}

/** The envelopes of an SQS event, or undefined when the event is not one; an unparsable body stays a string (rejected as malformed). */
function sqsBodies(event: unknown): unknown[] | undefined {
  const records = (event as { Records?: unknown } | null)?.Records;
  if (!Array.isArray(records) || records.length === 0) return undefined;
  if (!records.every((r) => (r as { eventSource?: unknown })?.eventSource === 'aws:sqs')) return undefined;
  return records.map((r) => {
    const body = (r as { body?: unknown }).body;
    try {
      return typeof body === 'string' ? (JSON.parse(body) as unknown) : body;
    } catch {
      return body;
    }
  });
}

/** SQLSTATE classes 22 (data exception) and 23 (integrity): the input, not the database, is at fault. */
function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}

let shared: ChatWriter | undefined;

/** AWS Lambda entry point. The pool lives across invocations of a warm container. */
export const handler = async (event: unknown, context?: unknown): Promise<ChatWriterResult> => {
  if (!shared) {
    const databaseUrl = process.env.DATABASE_URL;
    if (!databaseUrl) throw new Error('DATABASE_URL is not set');
    const holdMs = process.env.CHAT_HOLD_MS ? Number(process.env.CHAT_HOLD_MS) : undefined;
    const poolMax = process.env.PG_POOL_MAX ? Number(process.env.PG_POOL_MAX) : 2;
    if (holdMs !== undefined && !(holdMs > 0)) throw new Error(`CHAT_HOLD_MS must be a positive number of milliseconds, got ${process.env.CHAT_HOLD_MS}`);
    if (!(poolMax >= 1)) throw new Error(`PG_POOL_MAX must be a positive integer, got ${process.env.PG_POOL_MAX}`);
    shared = createChatWriter({ databaseUrl, poolMax, ...(holdMs !== undefined ? { holdMs } : {}), logger: consoleLogger });
  }
  return shared(event, context);
};

const consoleLogger: FunctionLogger = {
  info: (obj, msg) => console.log(JSON.stringify({ level: 'info', msg, ...obj })),
  warn: (obj, msg) => console.warn(JSON.stringify({ level: 'warn', msg, ...obj })),
  error: (obj, msg) => console.error(JSON.stringify({ level: 'error', msg, ...obj })),
};
