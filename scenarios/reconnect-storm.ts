import { defineScenario } from '../harness/runner/scenario.ts';
import editStorm from './edit-storm.ts';

/** Every socket of the realtime service (clients and connector alike) dropped at once, four times. */
export default defineScenario({
  ...editStorm,
  name: 'reconnect-storm',
  description: 'every client socket dropped at once, several times; clients resume with no gap and no duplicate',
  guarantee: 'after each mass disconnect every client resumes its connection and receives what it missed, in order, once; the stack stays up',
  defaults: { ...editStorm.defaults, durationMs: 12_000 },
  faults: (o) => [0.2, 0.4, 0.6, 0.8].map((f) => `rt-drop-all@${Math.round(o.durationMs * f)}ms`),
  thresholds: {
    lost: ['count==0'],
    duplicated: ['count==0'],
    dropped: ['count==0'],
    e2e_latency: ['p(99)<5000'],
  },
});
