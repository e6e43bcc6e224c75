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
  // A standard account's limits as Ably's limits page states them (every package): 50 messages/s
  // in per connection and per channel, 50/s out per connection, 200 channels per connection. The
  // service's defaults already match, except the outbound rate. The slow reader's feeders share
  // one channel's 50/s, so it takes seconds to fill a socket: its budget allows for a loaded machine.
  stack: { realtimeLimits: { connectionOutboundRate: 50 } },
  abuse: { rounds: 2, sdkFloodMs: 3_000, slowReaderBudgetMs: 20_000, niceness: 19 },
  sampleResources: true,
  thresholds: { ...editStorm.thresholds, e2e_latency: ['p(99)<1000'] },
});
