/**
 * Which integration envelopes were given up after their last retry, and whether they explain
 * acknowledged writes that never reached the database: the usual cause when Postgres was down
 * for longer than the integration's retries last.
 */
import type { HistoryEvent, InvocationEvent } from '../history/types.ts';

export interface DroppedEnvelope {
  envelopeId: string;
  channel: string;
  /** Attempts made before it was given up. */
  attempts: number;
  /** The last attempt's error. */
  error?: string;
  /** Acknowledged writes of the envelope that are missing from the database. */
  missingWrites: string[];
}

export function droppedEnvelopes(history: readonly HistoryEvent[], missingOpIds: ReadonlySet<string>): DroppedEnvelope[] {
  const out = new Map<string, DroppedEnvelope>();
  for (const e of history) {
    if (e.type !== 'invocation' || e.phase !== 'dropped') continue;
    const inv = e as InvocationEvent;
    const missing = inv.messageIds.filter((id) => missingOpIds.has(id));
    if (missing.length === 0 || out.has(inv.envelopeId)) continue;
    out.set(inv.envelopeId, { envelopeId: inv.envelopeId, channel: inv.channel, attempts: inv.attempt, ...(inv.error ? { error: inv.error } : {}), missingWrites: missing });
  }
  return [...out.values()];
}

/** One line: why the writes are missing, when dropped envelopes account for some of them. */
export function droppedCause(dropped: readonly DroppedEnvelope[], missing: number): string | undefined {
  if (dropped.length === 0) return undefined;
  const writes = dropped.reduce((n, d) => n + d.missingWrites.length, 0);
  const attempts = Math.max(...dropped.map((d) => d.attempts));
  const error = dropped.find((d) => d.error)?.error ?? 'an error';
  return (
    `${writes} of ${missing} missing acknowledged writes were in ${dropped.length} envelopes the integration dropped after ${attempts} failed attempts ` +
    `(last error: ${error.slice(0, 80)}): the database was unavailable for longer than the retries last, and nothing kept the events ` +
    `(an on-failure destination with replay, --rules ably-lambda-destination, or a queue, --rules queue, would)`
  );
}
