/**
 * The harness's scenarios (scenarios/*.ts) restated for k6, which cannot import the harness.
 * A Node test (harness/k6/workloads.test.ts) keeps each entry equal to its harness scenario:
 * defaults, mix, hot messages, executor and thresholds.
 */

export interface WorkloadOptions {
  durationMs: number;
  /** Operations per second across all publishing users. */
  rate: number;
  /** Publishing users per room. */
  users: number;
  rooms: number;
  /** Reader-only users per room. */
  readers: number;
}

export interface Mix {
  post: number;
  edit: number;
  delete: number;
  typing: number;
}

export type Executor =
  | { executor: 'constant-arrival-rate'; rate: number; durationMs: number }
  | { executor: 'ramping-arrival-rate'; startRate: number; stages: { target: number; durationMs: number }[] };

export interface Workload {
  name: string;
  description: string;
  defaults: WorkloadOptions;
  mix: Mix;
  hot: { perUser: number; skew: number };
  executor: (o: WorkloadOptions) => Executor;
  thresholds: Record<string, string[]>;
}

export const editStorm: Workload = {
  name: 'edit-storm',
  description: 'many users post and, above all, edit a few hot messages concurrently across several rooms',
  defaults: { durationMs: 12_000, rate: 60, users: 4, rooms: 3, readers: 2 },
  mix: { post: 0.25, edit: 0.65, delete: 0.03, typing: 0.07 },
  hot: { perUser: 2, skew: 0.8 },
  executor: (o) => ({ executor: 'constant-arrival-rate', rate: o.rate, durationMs: o.durationMs }),
  thresholds: {
    e2e_latency: ['p(99)<500'],
    edit_propagation: ['p(99)<1000'],
    lost: ['count==0'],
    duplicated: ['count==0'],
    dropped: ['count==0'],
  },
};

export const chatBurst: Workload = {
  name: 'chat-burst',
  description: 'bursts of posts with large fan-out: few writers, many readers per room',
  defaults: { durationMs: 15_000, rate: 40, users: 3, rooms: 2, readers: 20 },
  mix: { post: 0.9, edit: 0.1, delete: 0, typing: 0 },
  hot: { perUser: 1, skew: 0.5 },
  executor: (o) => ({
    executor: 'ramping-arrival-rate',
    startRate: o.rate / 4,
    stages: [
      { target: o.rate * 2, durationMs: o.durationMs / 3 },
      { target: o.rate / 4, durationMs: o.durationMs / 3 },
      { target: o.rate * 2, durationMs: o.durationMs / 3 },
    ],
  }),
  thresholds: { e2e_latency: ['p(99)<500'], lost: ['count==0'], duplicated: ['count==0'] },
};

export const steady: Workload = {
  name: 'steady',
  description: 'a low constant rate for a clean latency baseline',
  defaults: { durationMs: 20_000, rate: 10, users: 2, rooms: 1, readers: 2 },
  mix: { post: 0.6, edit: 0.4, delete: 0, typing: 0 },
  hot: { perUser: 2, skew: 0.5 },
  executor: (o) => ({ executor: 'constant-arrival-rate', rate: o.rate, durationMs: o.durationMs }),
  thresholds: { e2e_latency: ['p(50)<50', 'p(99)<200'], lost: ['count==0'] },
};

export const workloads: readonly Workload[] = [editStorm, chatBurst, steady];

/** Cumulative operations due by `tMs` after the load starts (the integral of the rate). */
export function arrivalsBy(e: Executor, tMs: number): number {
  if (e.executor === 'constant-arrival-rate') return (e.rate * Math.min(Math.max(tMs, 0), e.durationMs)) / 1000;
  let acc = 0;
  let from = e.startRate;
  let elapsed = 0;
  for (const s of e.stages) {
    const span = Math.min(s.durationMs, Math.max(0, tMs - elapsed));
    const rateAtEnd = from + ((s.target - from) * span) / s.durationMs;
    acc += ((from + rateAtEnd) / 2) * (span / 1000);
    elapsed += s.durationMs;
    from = s.target;
    if (tMs <= elapsed) break;
  }
  return acc;
}

export function loadDurationMs(e: Executor): number {
  return e.executor === 'constant-arrival-rate' ? e.durationMs : e.stages.reduce((a, s) => a + s.durationMs, 0);
}
