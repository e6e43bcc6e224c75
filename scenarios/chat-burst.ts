import { defineScenario } from '../harness/runner/scenario.ts';

export default defineScenario({
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
});
