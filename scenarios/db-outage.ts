import { defineScenario } from '../harness/runner/scenario.ts';
import editStorm from './edit-storm.ts';

/**
 * Postgres is gone for longer than the integration retries a failed write. AWS retries an
 * asynchronous invocation about 1 and 2 minutes after it failed and then discards it; at a time
 * scale of 1/12 that horizon is 15 s, and Postgres stays down for 22 s. Under the default rules
 * every write first tried early in the outage is dropped although its sender saw it acknowledged;
 * an on-failure destination with a replay (`--rules ably-lambda-destination`) or a queue between
 * Ably and the writer (`--rules queue`) keeps them.
 */
export const DB_OUTAGE_TIME_SCALE = 1 / 12;

export default defineScenario({
  ...editStorm,
  name: 'db-outage',
  description: 'Postgres down for 22 s, longer than the time-scaled Lambda retry horizon (15 s); default rules drop acknowledged writes',
  guarantee: 'every write the realtime service acknowledged is committed or recorded as rejected, even when the database is down longer than the retries last',
  defaults: { ...editStorm.defaults, durationMs: 30_000, rate: 20 },
  stack: { timeScale: DB_OUTAGE_TIME_SCALE },
  // Hundreds of envelopes wait for the database; once it is back they drain at the writer's pace.
  quietTimeoutMs: 60_000,
  faults: (o) => [`pg-down=${Math.round(o.durationMs * 0.73)}ms@${Math.round(o.durationMs * 0.13)}ms`],
  thresholds: {
    lost: ['count==0'],
    duplicated: ['count==0'],
    dropped: ['count==0'],
    // The outage itself delays writes by up to its length plus the backlog; the checks judge loss.
    e2e_latency: ['p(99)<120000'],
  },
});
