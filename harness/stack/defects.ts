/**
 * Planted defects the stack can switch on for the self-check and the property tests. Each one
 * reproduces a known failure of this architecture (see harness/runner/mutants.ts); none is ever
 * on unless asked for.
 */
export interface PlantedDefects {
  /** The connector publishes each change independently after a REST-like round-trip delay, without waiting for the previous one (the original connector). */
  connectorNoWait?: boolean;
  /** The chat-writer handles only the first message of each batch (the original demo); the stack turns rule batching on so batches exist. */
  writerFirstOnly?: boolean;
  /** The chat-writer applies edits and deletes without checking the author. */
  writerNoAuthorCheck?: boolean;
  /** The chat-writer applies the edits and deletes held for a post, once it arrives, without checking their author. */
  writerHeldNoAuthorCheck?: boolean;
  /** The chat-writer gives a row the text of whichever edit arrives last, not the one sent last. */
  writerLastArrivalWins?: boolean;
  /** The chat-writer lets a redelivered post put its text back, without a new version. */
  writerPostRevertsText?: boolean;
  /** The connector sends neighbouring changes of different rows on one channel in swapped order. */
  connectorSwapRows?: boolean;
  /** The realtime service's resume replay leaves out the first message each resumed attach missed. */
  realtimeResumeSkipsFirst?: boolean;
  /** The token endpoint issues tokens with the key's full capability (the original). */
  tokenFullCapability?: boolean;
  /** The history endpoint's first page leaves out the room's newest row. */
  historyDropsNewest?: boolean;
  /** The history endpoint lists each page oldest first. */
  historyOldestFirst?: boolean;
  /** The history endpoint's `next` cursor makes each page repeat the last row of the one before. */
  historyOverlap?: boolean;
}

export function describeDefects(d: PlantedDefects | undefined): string[] {
  return d ? Object.entries(d).filter(([, on]) => on).map(([k]) => k) : [];
}
