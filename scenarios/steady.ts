import { defineScenario } from '../harness/runner/scenario.ts';

export default defineScenario({
  name: 'steady',
  description: 'a low constant rate for a clean latency baseline',
  defaults: { durationMs: 20_000, rate: 10, users: 2, rooms: 1, readers: 2 },
  mix: { post: 0.6, edit: 0.4, delete: 0, typing: 0 },
  hot: { perUser: 2, skew: 0.5 },
  executor: (o) => ({ executor: 'constant-arrival-rate', rate: o.rate, durationMs: o.durationMs }),
  thresholds: { e2e_latency: ['p(50)<50', 'p(99)<200'], lost: ['count==0'] },
});
