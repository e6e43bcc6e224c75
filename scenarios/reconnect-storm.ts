import { defineScenario } from '../harness/runner/scenario.ts';
import editStorm from './edit-storm.ts';

/**
 * Every client socket dropped at once, four times, while the connector keeps publishing: each
 * resume has missed changes to replay. Each drop fails (and with it the run) when fewer than 3
 * resumed attaches had anything to replay, since then resume replay was not tested.
 */
export default defineScenario({
  ...editStorm,
  name: 'reconnect-storm',
  description: 'every client socket dropped at once, several times; clients resume with no gap and no duplicate',
  guarantee: 'after each mass disconnect every client resumes its connection and receives what it missed, in order, once; the stack stays up',
  defaults: { ...editStorm.defaults, durationMs: 12_000 },
  faults: (o) => [0.2, 0.4, 0.6, 0.8].map((f) => `rt-drop-clients=3@${Math.round(o.durationMs * f)}ms`),
  thresholds: {
    lost: ['count==0'],
    duplicated: ['count==0'],
    dropped: ['count==0'],
    e2e_latency: ['p(99)<5000'],
  },
});
