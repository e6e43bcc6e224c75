/**
 * End-to-end latency without shared memory between virtual users: every post and edit text
 * carries its operation id and the wall-clock time it was published, so any subscriber that
 * receives the row can compute publish -> receipt. Within one machine the clock is shared; across
 * distributed k6 instances the figures include the instances' clock offset.
 *
 * A `Receipts` book belongs to one subscriber: it drops duplicate events, notices versions that
 * arrive after a newer one, and yields each operation's latency once (a later event of the same
 * row may still carry an older edit's text).
 */
import type { ChangeEvent } from './protocol.ts';

export type StampKind = 'p' | 'e';

export interface Stamp {
  opId: string;
  kind: StampKind;
  sentAt: number;
}

export function stampedText(opId: string, kind: StampKind, sentAt: number, words: string): string {
  return `${opId} ${kind}@${Math.round(sentAt)} ${words}`;
}

const STAMP = /^(\S+) ([pe])@(\d+)(?: |$)/;

export function parseStamp(text: string): Stamp | undefined {
  const m = STAMP.exec(text);
  if (!m) return undefined;
  return { opId: m[1]!, kind: m[2] as StampKind, sentAt: Number(m[3]) };
}

export type ReceiptOutcome =
  | { kind: 'duplicate' }
  | {
      kind: 'first';
      /** A version older than one this subscriber already received for the row. */
      outOfOrder: boolean;
      /** Publish -> receipt of the operation whose text this event carries, the first time it is seen. */
      latency?: { ms: number; stamp: Stamp };
    };

export class Receipts {
  private readonly events = new Set<string>();
  private readonly versions = new Map<string, number>();
  private readonly stamps = new Set<string>();

  receive(change: ChangeEvent, receivedAt: number): ReceiptOutcome {
    if (this.events.has(change.eventId)) return { kind: 'duplicate' };
    this.events.add(change.eventId);
    const { row } = change;
    const last = this.versions.get(row.id);
    const outOfOrder = last !== undefined && row.version < last;
    if (!outOfOrder) this.versions.set(row.id, row.version);
    const stamp = row.deleted ? undefined : parseStamp(row.text);
    if (!stamp || this.stamps.has(stamp.opId)) return { kind: 'first', outOfOrder };
    this.stamps.add(stamp.opId);
    return { kind: 'first', outOfOrder, latency: { ms: Math.max(0, receivedAt - stamp.sentAt), stamp } };
  }
}
