import type { PlantedDefects } from '../stack/defects.ts';

/**
 * Planted defects ("mutants"). Each reproduces a known failure mode of this architecture and is
 * never active unless selected with --mutant; `npm run scenario self-check` runs each against the
 * scenario that should catch it and expects the named checker to fail.
 */
export const MUTANTS = {
  'connector-no-wait': {
    description: 'the connector publishes each change without waiting for the previous one (the original, over REST), so a later version can overtake an earlier one',
    caughtBy: ['stream-order', 'commit-order'],
    scenario: 'connector-crash',
  },
  'connector-notify-only': {
    description: 'the connector relies on NOTIFY alone; changes committed while it restarts are lost',
    caughtBy: ['delivery', 'convergence'],
    scenario: 'connector-crash',
  },
  'writer-first-only': {
    description: 'the chat-writer handles only the first message of a batch (the original demo)',
    caughtBy: ['acknowledged-writes'],
  },
  'writer-no-author-check': {
    description: 'the chat-writer lets anyone edit any message',
    caughtBy: ['author-check'],
    scenario: 'hostile-clients',
  },
  'writer-held-no-author-check': {
    description: 'the chat-writer applies an edit or delete that arrived before its post without checking its author, once the post arrives',
    caughtBy: ['author-check', 'capability', 'final-content'],
    // Its hostile users send edits and deletes for ids they predict, before the victim's post is published.
    scenario: 'hostile-clients',
    // The property's foreign edits target posts it has already seen written: never the held path.
    property: false,
  },
  'view-no-version-check': {
    description: 'client views apply every event without comparing versions',
    caughtBy: ['version-order', 'convergence'],
    // Live events arrive in version order; the stale apply happens when a late joiner's history
    // page lands after a newer live edit, so late-join is the scenario that exposes it.
    scenario: 'late-join',
  },
  'writer-last-arrival-wins': {
    description: 'the chat-writer gives a row the text of whichever edit arrives last, not its author\'s last edit',
    caughtBy: ['final-content'],
    // Edits of one row reach the writer out of send order only when invocations come late.
    scenario: 'late-redelivery',
    // The property's stack does not redeliver late, so it cannot reach this defect.
    property: false,
  },
  'writer-post-reverts-text': {
    description: 'a redelivered post puts its original text back on the row, at the same version',
    caughtBy: ['version-content', 'final-content'],
    scenario: 'late-redelivery',
    property: false,
  },
  'connector-swap-rows': {
    description: 'the connector sends two neighbouring changes of different rows on one channel in swapped order (each row\'s versions stay in order)',
    caughtBy: ['commit-order'],
    // Not yet shown to be within the property's reach (its commands rarely commit two rows at once).
    property: false,
  },
  'history-drops-newest': {
    description: 'the history endpoint\'s first page leaves out the room\'s newest row',
    caughtBy: ['history-pages', 'convergence'],
    // late-join's quiet room: its joiner gets nothing live that could stand in for the row.
    scenario: 'late-join',
    property: false,
  },
  'history-oldest-first': {
    description: 'the history endpoint lists each page oldest first, not newest first as it promises',
    caughtBy: ['history-pages'],
    scenario: 'late-join',
    property: false,
  },
  'history-overlap': {
    description: 'the history endpoint\'s next-page cursor makes each page repeat the last row of the page before',
    caughtBy: ['history-pages'],
    scenario: 'late-join',
    property: false,
  },
  'realtime-resume-skips-first': {
    description: 'the realtime service replays what a resumed attach missed, except the first message',
    caughtBy: ['delivery', 'stream-order', 'convergence'],
    // Its client-only drops leave the connector publishing, so every resume has a gap to replay.
    scenario: 'reconnect-storm',
    // The property's socket drops cut the connector too, so its resumes rarely have a gap: not within its reach.
    property: false,
  },
  'token-full-capability': {
    description: 'the token endpoint issues tokens with the key\'s full capability',
    caughtBy: ['capability'],
    scenario: 'hostile-clients',
  },
} as const;

export type MutantName = keyof typeof MUTANTS;
export const MUTANT_NAMES = Object.keys(MUTANTS) as MutantName[];
/** The mutants the chat model property (test/property) is expected to find. */
export const PROPERTY_MUTANT_NAMES = MUTANT_NAMES.filter((m) => (MUTANTS[m] as { property?: boolean }).property !== false);

export function parseMutant(value: string): MutantName {
  if ((MUTANT_NAMES as string[]).includes(value)) return value as MutantName;
  throw new Error(`--mutant '${value}' is unknown; expected one of: ${MUTANT_NAMES.join(', ')}`);
}

/** The stack switches that plant the server-side defects among `mutants`. */
export function stackDefectsFor(mutants: readonly MutantName[]): { defects: PlantedDefects; connectorMode?: 'notify' } {
  const on = (m: MutantName) => mutants.includes(m);
  return {
    defects: {
      ...(on('connector-no-wait') ? { connectorNoWait: true } : {}),
      ...(on('writer-first-only') ? { writerFirstOnly: true } : {}),
      ...(on('writer-no-author-check') ? { writerNoAuthorCheck: true } : {}),
      ...(on('writer-held-no-author-check') ? { writerHeldNoAuthorCheck: true } : {}),
      ...(on('token-full-capability') ? { tokenFullCapability: true } : {}),
      ...(on('writer-last-arrival-wins') ? { writerLastArrivalWins: true } : {}),
      ...(on('writer-post-reverts-text') ? { writerPostRevertsText: true } : {}),
      ...(on('connector-swap-rows') ? { connectorSwapRows: true } : {}),
      ...(on('realtime-resume-skips-first') ? { realtimeResumeSkipsFirst: true } : {}),
      ...(on('history-drops-newest') ? { historyDropsNewest: true } : {}),
      ...(on('history-oldest-first') ? { historyOldestFirst: true } : {}),
      ...(on('history-overlap') ? { historyOverlap: true } : {}),
    },
    ...(on('connector-notify-only') ? { connectorMode: 'notify' as const } : {}),
  };
}
