import { defineScenario } from '../harness/runner/scenario.ts';
import editStorm from './edit-storm.ts';

/** Two connectors share the leader lock; the active one is killed twice (so each takes a turn). */
export default defineScenario({
  ...editStorm,
  name: 'connector-failover',
  description: 'an active and a standby connector; the active one is killed, the standby takes over with nothing lost',
  guarantee: 'with a standby running, killing the active connector loses nothing and the standby takes over within seconds (takeover time in the fault detail)',
  defaults: { ...editStorm.defaults, durationMs: 12_000 },
  stack: { connectors: 2 },
  faults: (o) => [0.3, 0.65].map((f) => `connector-failover@${Math.round(o.durationMs * f)}ms:500ms`),
  thresholds: {
    lost: ['count==0'],
    duplicated: ['count==0'],
    phantom: ['count==0'],
    dropped: ['count==0'],
    e2e_latency: ['p(99)<15000'],
  },
});
