import { defineScenario } from '../harness/runner/scenario.ts';
import { ORDERED_RULES } from '../harness/stack/index.ts';
import editStorm from './edit-storm.ts';

/**
 * The chat-writer slows down, then fails a fifth of its invocations, then stalls past its timeout.
 * The ordered integration queues per channel and retries until success, so nothing is lost and
 * each author's posts commit in the order sent; the queueing shows in the ack->commit stage.
 */
export default defineScenario({
  ...editStorm,
  name: 'slow-lambda',
  description: 'the chat-writer slows down, errors and times out; back-pressure and retries keep order per channel',
  guarantee: 'with the ordered integration, a slow or failing writer delays writes but loses none and keeps each channel in publish order',
  defaults: { ...editStorm.defaults, durationMs: 15_000, rate: 40 },
  stack: { rulesFile: ORDERED_RULES },
  faults: (o) => [
    `lambda-latency=40ms@${Math.round(o.durationMs * 0.1)}ms:${Math.round(o.durationMs * 0.25)}ms`,
    `lambda-errors=0.2@${Math.round(o.durationMs * 0.4)}ms:${Math.round(o.durationMs * 0.2)}ms`,
    `lambda-timeouts=100ms@${Math.round(o.durationMs * 0.7)}ms:1s`,
  ],
  thresholds: {
    lost: ['count==0'],
    duplicated: ['count==0'],
    dropped: ['count==0'],
    author_reorder_rate: ['rate==0'],
    e2e_latency: ['p(99)<15000'],
  },
});
