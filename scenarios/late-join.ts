import { defineScenario } from '../harness/runner/scenario.ts';

export default defineScenario({
  name: 'late-join',
  description: 'users join mid-storm and readers leave and come back, each loading history and merging live events without gap or duplicate; a joiner reads a quiet room back in small pages',
  defaults: { durationMs: 15_000, rate: 40, users: 3, rooms: 2, readers: 1 },
  mix: { post: 0.5, edit: 0.45, delete: 0.05, typing: 0 },
  hot: { perUser: 2, skew: 0.7 },
  executor: (o) => ({ executor: 'constant-arrival-rate', rate: o.rate, durationMs: o.durationMs }),
  lateJoin: { perRoom: 3, atFraction: 0.5 },
  // 13 posts, one deleted, in pages of 5: the joiner's read crosses two page boundaries.
  quietJoin: { posts: 13, pageLimit: 5 },
  churn: { everyMs: 4000, awayMs: 1000 },
  // A slow history endpoint while they join: live edits overtake the history page, so the merge
  // must keep the newer live version (this is what exposes a view that ignores versions). It lasts
  // to the end so returners' pages are slow too: with a 3 s window, later live edits often repaired
  // the stale rows and the planted defect went uncaught in about half the runs.
  faults: (o) => [`net-latency=clients-functions/400ms@${Math.round(o.durationMs * 0.5) - 200}ms:${Math.round(o.durationMs * 0.5)}ms`],
  thresholds: { lost: ['count==0'], duplicated: ['count==0'] },
});
