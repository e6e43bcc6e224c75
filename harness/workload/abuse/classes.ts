/** The attack classes of the abuse scenario, the codes each must be refused with, and their schedule. */

export const ATTACK_CLASSES = {
  'flood-raw': { description: 'raw protocol publishes far past the connection rate, without waiting for acks', codes: ['42911', '42921'] },
  'flood-protocol': { description: 'raw HEARTBEATs past the protocol-message rate', codes: ['42924'] },
  // A fast machine acks quickly enough for the SDK's frames to pass the protocol-message rate first.
  'flood-sdk': { description: 'one SDK client publishing as fast as its acks come back', codes: ['42911', '42921', '42924'] },
  'slow-reader': { description: 'a raw socket that stops reading a busy channel', codes: ['42915', '80020'] },
  'channel-hog': { description: 'one connection attaching more channels than allowed', codes: ['90010'] },
  'oversize-frame': { description: 'a WebSocket frame header announcing 64 MB', codes: ['ws-1009'] },
  'admin-poke': { description: "the realtime admin API with a client's credentials (none, its token) from a foreign origin", codes: ['40101', 'cors-denied'] },
  'lambda-forged-signature': { description: 'chat-writer invoked with the real key id and a wrong signature', codes: ['InvalidSignatureException'] },
  'lambda-unknown-key': { description: 'chat-writer invoked with a key id the endpoint does not know', codes: ['UnrecognizedClientException'] },
} as const;
export type AttackClass = keyof typeof ATTACK_CLASSES;

export interface AbuseSpec {
  /** Each round runs every attack once, spread over its share of the load (the slow reader: first round only). */
  rounds: number;
  /** How long the SDK flooder floods per round. */
  sdkFloodMs: number;
  /** Longest the slow reader's feeder keeps filling the channel before the service must have dropped. */
  slowReaderBudgetMs: number;
  /**
   * The attackers' thread's niceness (0-19). Real attackers flood from machines of their own, so
   * the scenario gives them 19: on a shared machine they then yield the CPU to the stack and the
   * honest users, whose latency shows what refusing the floods costs the stack. A test on a
   * machine busy with other tests gives 0, so its attackers are not starved past their budgets.
   */
  niceness: number;
}

/**
 * The attacks of one round, in the order they start. The forged-signature step also makes the
 * unknown-key invokes (one step, two classes).
 */
export function roundSteps(round: number): AttackClass[] {
  return [
    'flood-raw',
    'flood-sdk',
    ...(round === 0 ? (['slow-reader'] as const) : []),
    'flood-protocol',
    'oversize-frame',
    'channel-hog',
    'admin-poke',
    'lambda-forged-signature',
  ];
}
