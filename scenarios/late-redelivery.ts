import { fileURLToPath } from 'node:url';
import { defineScenario } from '../harness/runner/scenario.ts';

/**
 * The integration as AWS's asynchronous invocation really behaves: some envelopes reach the
 * chat-writer only seconds (AWS: minutes) after later ones, and some come a second time after the
 * edits that followed them. Edits of one row then arrive out of send order and old posts arrive
 * again, which is where a writer that lets the last arrival win, or lets a redelivered post put
 * back its text, shows itself (final-content, version-content).
 */
export default defineScenario({
  name: 'late-redelivery',
  description: 'an edit storm under late redeliveries: postponed and repeated Lambda invocations, seconds later',
  defaults: { durationMs: 10_000, rate: 40, users: 4, rooms: 2, readers: 1 },
  mix: { post: 0.3, edit: 0.62, delete: 0.03, typing: 0.05 },
  hot: { perUser: 2, skew: 0.8 },
  executor: (o) => ({ executor: 'constant-arrival-rate', rate: o.rate, durationMs: o.durationMs }),
  stack: { rulesFile: fileURLToPath(new URL('../harness/realtime/rules/chat-rules.late-redelivery.json', import.meta.url)) },
  thresholds: {
    lost: ['count==0'],
    duplicated: ['count==0'],
    dropped: ['count==0'],
  },
});
