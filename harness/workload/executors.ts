/**
 * Executors after k6. Open-loop executors start operations on a schedule whether or not earlier
 * ones finished, so a slow system cannot slow the load down and hide its own latency (no
 * coordinated omission). An operation that cannot start (too many in flight) is counted and
 * recorded as dropped, never silently skipped. The closed-loop executor runs fixed iterations
 * per virtual user, each waiting for the previous one.
 */
import { z } from 'zod';
import type { OpKind } from '../history/types.ts';
import type { Recorder } from './recorder.ts';

export const StageSchema = z.object({ target: z.number().nonnegative(), durationMs: z.number().positive() });

export const ExecutorSchema = z.discriminatedUnion('executor', [
  z.object({
    executor: z.literal('constant-arrival-rate'),
    rate: z.number().positive(), // operations per second
    durationMs: z.number().positive(),
    maxInFlight: z.number().int().positive().default(2000),
  }),
  z.object({
    executor: z.literal('ramping-arrival-rate'),
    startRate: z.number().nonnegative().default(0),
    stages: z.array(StageSchema).min(1),
    maxInFlight: z.number().int().positive().default(2000),
  }),
  z.object({
    executor: z.literal('per-vu-iterations'),
    iterations: z.number().int().positive(),
    maxDurationMs: z.number().positive(),
  }),
]);
export type ExecutorConfig = z.input<typeof ExecutorSchema>;

/** What the scenario does at one arrival: the kind (for accounting) and the work. */
export interface Arrival {
  op: OpKind;
  run: () => Promise<void>;
}

export interface ExecutorResult {
  started: number;
  completed: number;
  dropped: number;
  /** Largest delay between an arrival's scheduled time and its start, ms. */
  maxLagMs: number;
  durationMs: number;
}

export interface ExecutorHooks {
  recorder: Recorder;
  /** Next arrival (open loop: any user; closed loop: the given user index). */
  next: (vuIndex?: number) => Arrival;
  /** Number of virtual users (closed loop). */
  vus: number;
  signal?: AbortSignal;
  onTick?: (r: ExecutorResult) => void;
}

/** Cumulative arrivals expected by time t (ms) for an open-loop schedule. */
export function arrivalsBy(cfg: z.output<typeof ExecutorSchema>, tMs: number): number {
  if (cfg.executor === 'constant-arrival-rate') return (cfg.rate * Math.min(tMs, cfg.durationMs)) / 1000;
  if (cfg.executor === 'ramping-arrival-rate') {
    let acc = 0;
    let from = cfg.startRate;
    let elapsed = 0;
    for (const s of cfg.stages) {
      const span = Math.min(s.durationMs, Math.max(0, tMs - elapsed));
      // Linear ramp from `from` to `s.target` over the stage: integrate the covered part.
      const rateAtEnd = from + ((s.target - from) * span) / s.durationMs;
      acc += ((from + rateAtEnd) / 2) * (span / 1000);
      elapsed += s.durationMs;
      from = s.target;
      if (tMs <= elapsed) break;
    }
    return acc;
  }
  return 0;
}

export function scheduleDurationMs(cfg: z.output<typeof ExecutorSchema>): number {
  if (cfg.executor === 'constant-arrival-rate') return cfg.durationMs;
  if (cfg.executor === 'ramping-arrival-rate') return cfg.stages.reduce((s, st) => s + st.durationMs, 0);
  return cfg.maxDurationMs;
}

export async function runExecutor(config: ExecutorConfig, hooks: ExecutorHooks): Promise<ExecutorResult> {
  const cfg = ExecutorSchema.parse(config);
  return cfg.executor === 'per-vu-iterations' ? closedLoop(cfg, hooks) : openLoop(cfg, hooks);
}

async function openLoop(cfg: z.output<typeof ExecutorSchema>, hooks: ExecutorHooks): Promise<ExecutorResult> {
  if (cfg.executor === 'per-vu-iterations') throw new Error('not an open-loop executor');
  const rec = hooks.recorder;
  const res: ExecutorResult = { started: 0, completed: 0, dropped: 0, maxLagMs: 0, durationMs: 0 };
  const total = scheduleDurationMs(cfg);
  const t0 = performance.now();
  const inFlight = new Set<Promise<void>>();
  let due = 0; // arrivals that have come due so far
  let lastTick = 0;
  while (!hooks.signal?.aborted) {
    const elapsed = performance.now() - t0;
    const expected = Math.floor(arrivalsBy(cfg, elapsed) + 1e-9);
    while (due < expected) {
      due++;
      const arrival = hooks.next();
      if (inFlight.size >= cfg.maxInFlight) {
        res.dropped++;
        rec.record({ t: rec.now(), type: 'dropped', op: arrival.op, reason: `max in flight (${cfg.maxInFlight}) reached` });
        continue;
      }
      res.started++;
      const p: Promise<void> = arrival
        .run()
        .catch(() => {})
        .finally(() => {
          inFlight.delete(p);
          res.completed++;
        });
      inFlight.add(p);
    }
    if (elapsed >= total) break;
    if (hooks.onTick && elapsed - lastTick >= 1000) {
      lastTick = elapsed;
      hooks.onTick({ ...res, durationMs: elapsed });
    }
    // Sleep until the next arrival is due (or 50 ms, to keep progress and abort responsive).
    const nextAt = nextArrivalTime(cfg, due + 1, elapsed, total);
    const wait = Math.max(0, Math.min(50, nextAt - (performance.now() - t0)));
    const before = performance.now();
    await new Promise((r) => setTimeout(r, wait));
    // Timer lateness beyond the requested wait is lag the generator imposed on the schedule.
    res.maxLagMs = Math.max(res.maxLagMs, performance.now() - before - wait);
  }
  res.durationMs = performance.now() - t0;
  await Promise.all(inFlight);
  return res;
}

/** Time (ms) at which cumulative arrivals reach n, found by bisection on the monotone schedule. */
function nextArrivalTime(cfg: z.output<typeof ExecutorSchema>, n: number, from: number, to: number): number {
  if (arrivalsBy(cfg, to) < n) return to;
  let lo = from;
  let hi = to;
  for (let i = 0; i < 30 && hi - lo > 0.1; i++) {
    const mid = (lo + hi) / 2;
    if (arrivalsBy(cfg, mid) >= n) hi = mid;
    else lo = mid;
  }
  return hi;
}

async function closedLoop(cfg: z.output<typeof ExecutorSchema>, hooks: ExecutorHooks): Promise<ExecutorResult> {
  if (cfg.executor !== 'per-vu-iterations') throw new Error('not a closed-loop executor');
  const res: ExecutorResult = { started: 0, completed: 0, dropped: 0, maxLagMs: 0, durationMs: 0 };
  const t0 = performance.now();
  const deadline = t0 + cfg.maxDurationMs;
  const ticker = setInterval(() => hooks.onTick?.({ ...res, durationMs: performance.now() - t0 }), 1000);
  try {
    await Promise.all(
      Array.from({ length: hooks.vus }, async (_, vu) => {
        for (let i = 0; i < cfg.iterations; i++) {
          if (hooks.signal?.aborted || performance.now() > deadline) return;
          res.started++;
          await hooks.next(vu).run().catch(() => {});
          res.completed++;
        }
      }),
    );
  } finally {
    clearInterval(ticker);
  }
  res.durationMs = performance.now() - t0;
  return res;
}
