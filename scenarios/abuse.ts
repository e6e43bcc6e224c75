import { defineScenario } from '../harness/runner/scenario.ts';
import editStorm from './edit-storm.ts';

/**
 * The edit storm's honest users, beside attackers in a room of their own: publish floods (raw
 * and SDK), a protocol flood, a slow reader, a channel hog, an oversized frame, pokes at the
 * realtime admin API and forged Lambda invokes. The realtime service runs a standard Ably
 * account's per-connection limits (50 messages/s), which the honest load stays under.
 * `--no-attackers` runs the same honest load alone; `--compare-attackers` runs both.
 */
export default defineScenario({
  ...editStorm,
  name: 'abuse',
  description: 'honest users beside flooders, a slow reader, a channel hog, oversized frames, admin-API pokes and forged Lambda invokes; every attack refused with its code',
  guarantee: "every attack is refused with Ably's or AWS's code and counted (capability check, one probe per attack class); the honest users' checks all hold; the realtime service's memory is sampled",
  defaults: { ...editStorm.defaults, durationMs: 30_000 },
  // A standard account's limits, except a channel's rate: an honest room's open-loop load comes in
  // bursts when a loaded generator catches up, and 42913s there would judge the machine, not the
  // attackers. Every attack is judged against the per-connection limits, which stay standard.
  stack: { realtimeLimits: { channelInboundRate: 200 } },
  abuse: { rounds: 2, sdkFloodMs: 3_000, slowReaderBudgetMs: 8_000 },
  sampleResources: true,
  thresholds: { ...editStorm.thresholds, e2e_latency: ['p(99)<1000'] },
});
