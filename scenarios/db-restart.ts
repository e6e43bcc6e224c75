import { fileURLToPath } from 'node:url';
import { defineScenario } from '../harness/runner/scenario.ts';
import editStorm from './edit-storm.ts';

/**
 * Postgres goes away under load: a fast shutdown, a server-side kill of every connection, and an
 * immediate shutdown (crash recovery). Lambda's retries are scaled from minutes to seconds so the
 * retried writes land within the run.
 */
export default defineScenario({
  ...editStorm,
  name: 'db-restart',
  description: 'Postgres restarted (fast, then immediate) and its connections terminated mid-storm; no acknowledged write silently lost',
  guarantee: 'every write the realtime service acknowledged is committed (retried by the integration) or recorded as rejected; the connector and chat-writer reconnect by themselves',
  defaults: { ...editStorm.defaults, durationMs: 15_000, rate: 40 },
  stack: { rulesFile: fileURLToPath(new URL('../harness/realtime/rules/chat-rules.fast-retry.json', import.meta.url)) },
  faults: (o) => [
    `pg-restart-fast@${Math.round(o.durationMs * 0.2)}ms:500ms`,
    `pg-terminate@${Math.round(o.durationMs * 0.45)}ms`,
    `pg-restart-immediate@${Math.round(o.durationMs * 0.65)}ms:500ms`,
  ],
  thresholds: {
    lost: ['count==0'],
    duplicated: ['count==0'],
    dropped: ['count==0'],
    e2e_latency: ['p(50)<200', 'p(99)<15000'],
  },
});
