import { defineScenario } from '../harness/runner/scenario.ts';
import editStorm from './edit-storm.ts';

/**
 * The realtime service restarts twice under an edit storm, losing every connection and all it held
 * in memory, so no client can resume: unlike reconnect-storm, continuity is lost. Clients retry
 * after 1 s (the SDK's default is 15 s: an app that keeps it waits that long); the connector keeps
 * the SDK's defaults, so its own reconnect may take up to 15 s, which its outbox absorbs.
 */
export default defineScenario({
  ...editStorm,
  name: 'realtime-restart',
  description: 'the realtime service restarted twice mid-storm (all connections and channel state lost); clients and connector reconnect by themselves',
  guarantee:
    'no acknowledged change is lost: the connector republishes what was not acknowledged, clients whose channels reattach without continuity read the room back from the database, and every view converges',
  defaults: { ...editStorm.defaults, durationMs: 15_000 },
  client: { disconnectedRetryTimeoutMs: 1000 },
  faults: (o) => [`rt-restart@${Math.round(o.durationMs * 0.25)}ms:300ms`, `rt-restart@${Math.round(o.durationMs * 0.6)}ms`],
  thresholds: {
    lost: ['count==0'],
    duplicated: ['count==0'],
    e2e_latency: ['p(50)<200', 'p(99)<30000'],
  },
});
