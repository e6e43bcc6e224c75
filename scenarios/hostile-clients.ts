import { defineScenario } from '../harness/runner/scenario.ts';
import editStorm from './edit-storm.ts';

/**
 * One hostile user per room tries, between the honest users' edits: publishing a forged change on
 * incoming, oversized and malformed messages, a forged token, a tampered TokenRequest, an expired
 * token, and editing and deleting other users' messages. Tokens live 5 s, so every honest user
 * also renews its token several times during the run.
 */
export default defineScenario({
  ...editStorm,
  name: 'hostile-clients',
  description: 'hostile users publish forged, oversized and malformed messages, use bad tokens and edit others\' messages; all refused',
  guarantee: 'every hostile attempt is refused with the right error (capability checker, per attempt), and the honest users\' checks all hold',
  defaults: { ...editStorm.defaults, durationMs: 14_000 },
  stack: { tokenTtlMs: 5_000 },
  // 3 rooms x 18 = 54 foreign edits and deletes besides the attacks' own, a third of them on a
  // victim's newest post (the held path) and a third on posts of other rooms.
  // And 3 x 12 sent for a post's id before that post is published (an attacker who guessed the
  // id), so the writer holds them until the post arrives and must refuse them then.
  hostile: { perRoom: 1, attacksPerClient: 8, foreignWritesPerClient: 18, predictedWritesPerClient: 12 },
  thresholds: { ...editStorm.thresholds, e2e_latency: ['p(99)<1000'] },
});
