import { defineScenario } from '../harness/runner/scenario.ts';
import editStorm from './edit-storm.ts';

/** Kill -9 three times, spread over the load; each restart must catch up from the outbox. */
export default defineScenario({
  ...editStorm,
  name: 'connector-crash',
  description: 'repeated kill -9 of the connector during an edit storm; durable mode loses nothing and delivers nothing twice',
  guarantee: 'durable mode: every change committed while the connector was dead is published after its restart, once, in commit order',
  defaults: { ...editStorm.defaults, durationMs: 14_000 },
  faults: (o) => [0.2, 0.45, 0.7].map((f, i) => `connector-kill@${Math.round(o.durationMs * f)}ms:${i === 1 ? 300 : 1000}ms`),
  thresholds: {
    lost: ['count==0'],
    duplicated: ['count==0'],
    phantom: ['count==0'],
    dropped: ['count==0'],
    // Changes wait while the connector is down (restarting it takes 1-3 s here): latency is not this scenario's guarantee.
    e2e_latency: ['p(99)<15000'],
  },
});
