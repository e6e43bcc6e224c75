/**
 * delivery: every committed change reaches every subscriber that was attached when it was
 * committed; nothing arrives twice; nothing arrives that was never committed.
 *
 * A change whose commit time no receipt or final row tells (nobody received it, and it is
 * neither the first nor the last version) is owed only to subscribers attached over the whole
 * window in which it must have committed (between its neighbours' commits, or the whole run).
 *
 * A change is published after its commit, and a subscriber can only receive what is published
 * while it is attached: one that leaves before a change is published (a connector down or
 * restarting for longer than the detach grace) is not owed it. The publish time is the
 * connector's own stamp, as any receipt of the change carries it; a change nobody received has
 * none, and is owed as from its commit.
 */
import type { FinalState, HistoryEvent } from '../history/types.ts';
import { unsettledNote, unsettledParts } from './settle.ts';
import { memoized, DEFAULT_ATTACH_GRACE_MS, DEFAULT_DETACH_GRACE_MS, attachedThroughout, changeKeyOf, describeChange, examples, indexRun, publishedAt } from './model.ts';

export interface DeliveryOptions {
  /** Default DEFAULT_ATTACH_GRACE_MS (5 ms). */
  attachGraceMs?: number;
  /** Default DEFAULT_DETACH_GRACE_MS (1000 ms). */
  detachGraceMs?: number;
}

export interface Lost { client: string; room: string; change: string; at: number }
export interface Duplicate { client: string; room: string; eventId: string; change: string; t: number }
export interface Phantom { client: string; room: string; change: string; t: number; reason: string }

export interface DeliveryAnalysis {
  /** (subscriber, change) pairs that had to be delivered, and how many of those were. */
  owed: number;
  delivered: number;
  lost: Lost[];
  duplicates: Duplicate[];
  phantoms: Phantom[];
  /** Receipts of a committed version whose content differs from the database's. */
  mismatched: Phantom[];
}

function computeDelivery(history: readonly HistoryEvent[], final: FinalState, opts: DeliveryOptions = {}): DeliveryAnalysis {
  const attachGrace = opts.attachGraceMs ?? DEFAULT_ATTACH_GRACE_MS;
  const detachGrace = opts.detachGraceMs ?? DEFAULT_DETACH_GRACE_MS;
  const idx = indexRun(history, final);
  const out: DeliveryAnalysis = { owed: 0, delivered: 0, lost: [], duplicates: [], phantoms: [], mismatched: [] };

  const receivedBy = new Map<string, Set<string>>();
  for (const [sub, rs] of idx.receivesBySub) {
    const events = new Set<string>();
    const changes = new Set<string>();
    for (const r of rs) {
      const change = changeKeyOf(r);
      const name = r.name === 'DELETE' ? `${r.messageId} DELETE` : `${r.messageId} v${r.version}`;
      if (events.has(r.eventId)) out.duplicates.push({ client: r.client, room: r.room, eventId: r.eventId, change: name, t: r.t });
      events.add(r.eventId);
      changes.add(change);
      const committed = idx.changes.get(change);
      const row = idx.rows.get(r.messageId);
      const phantom = (reason: string) => out.phantoms.push({ client: r.client, room: r.room, change: name, t: r.t, reason });
      if (!committed) {
        if (r.name === 'DELETE') phantom('DELETE of a row that still exists');
        else if (row) phantom(`version above the final version ${row.version}`);
        else phantom('no such row was committed');
        continue;
      }
      if (committed.room !== r.room) {
        phantom(`received in room ${r.room}, row belongs to ${committed.room}`);
        continue;
      }
      if (!row || r.name === 'DELETE') continue;
      const diff =
        r.author !== row.author ? 'author'
        : r.version === row.version && r.text !== row.text ? 'text'
        : r.version === row.version && r.deleted !== row.deleted ? 'deleted'
        : undefined;
      if (diff) out.mismatched.push({ client: r.client, room: r.room, change: name, t: r.t, reason: `${diff} differs from the database` });
    }
    receivedBy.set(sub, changes);
  }

  for (const c of idx.changes.values()) {
    const from = c.commitT ?? c.lo;
    const to = c.commitT ?? c.hi;
    const until = Math.max(to, publishedAt(idx, c.key) ?? -Infinity);
    for (const sub of idx.subscribersByRoom.get(c.room) ?? []) {
      if (!attachedThroughout(sub, from, until, attachGrace, detachGrace)) continue;
      out.owed++;
      if (receivedBy.get(sub.key)?.has(c.key)) out.delivered++;
      else out.lost.push({ client: sub.client, room: sub.room, change: describeChange(c), at: to });
    }
  }
  out.lost.sort((a, b) => a.at - b.at);
  for (const list of [out.duplicates, out.phantoms, out.mismatched]) list.sort((a, b) => a.t - b.t);
  return out;
}


export function analyzeDelivery(history: readonly HistoryEvent[], final: FinalState, opts: DeliveryOptions = {}): DeliveryAnalysis {
  return memoized(history, final, `delivery:${opts.attachGraceMs ?? DEFAULT_ATTACH_GRACE_MS}:${opts.detachGraceMs ?? DEFAULT_DETACH_GRACE_MS}`, () => computeDelivery(history, final, opts));
}

/**
 * The stack was still busy at the deadline (see settle.ts) and every shortfall is a missing
 * receipt, which a late delivery would fix: those are "undelivered", not lost.
 */
export function shortfallUnsettled(history: readonly HistoryEvent[], a: DeliveryAnalysis): string[] | undefined {
  const waiting = unsettledParts(history);
  return waiting && a.lost.length && !a.duplicates.length && !a.phantoms.length && !a.mismatched.length ? waiting : undefined;
}

export function deliveryChecker(opts: DeliveryOptions = {}) {
  return (history: readonly HistoryEvent[], final: FinalState) => {
    const a = analyzeDelivery(history, final, opts);
    const firsts = [a.lost[0]?.at, a.duplicates[0]?.t, a.phantoms[0]?.t, a.mismatched[0]?.t].filter(
      (x): x is number => x !== undefined,
    );
    const details: Record<string, unknown> = {
      owed: a.owed,
      delivered: a.delivered,
      lost: a.lost.length,
      duplicated: a.duplicates.length,
      phantom: a.phantoms.length,
      mismatched: a.mismatched.length,
    };
    if (a.lost.length) details.lostExamples = examples(a.lost);
    if (a.duplicates.length) details.duplicateExamples = examples(a.duplicates);
    if (a.phantoms.length) details.phantomExamples = examples(a.phantoms);
    if (a.mismatched.length) details.mismatchExamples = examples(a.mismatched);
    // Only a shortfall can be explained by a stack still busy; a duplicate or phantom cannot.
    const waiting = shortfallUnsettled(history, a);
    if (waiting) {
      const { lost, lostExamples, ...rest } = details;
      const unsettled: Record<string, unknown> = { ...rest, lost: 0, undelivered: lost, undeliveredExamples: lostExamples, waiting, unknownBecause: unsettledNote(waiting) };
      return { valid: 'unknown' as const, details: unsettled };
    }
    return firsts.length
      ? { valid: false as const, details, failedAt: Math.min(...firsts) }
      : { valid: true as const, details };
  };
}
