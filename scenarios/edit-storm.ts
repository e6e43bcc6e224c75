import { defineScenario } from '../harness/runner/scenario.ts';

export default defineScenario({
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
});
