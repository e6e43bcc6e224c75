/**
 * A tiny, deterministic model of the chat stack that produces a *correct* history and final
 * state from a script of operations. Checker tests start from such a clean run and then plant
 * one defect by editing the events, so every test knows exactly what was broken.
 */
import type {
  DbRejection,
  DbRow,
  FinalState,
  HistoryEvent,
  ReceiveEvent,
  ViewRow,
} from './types.ts';

export interface SimClient {
  id: string;
  room: string;
  /** When the client attached to the room's incoming channel (default 0). */
  joinT?: number;
  /** When it detached; a client that leaves records no final view. */
  leaveT?: number;
}

export interface SimOp {
  t: number;
  op: 'post' | 'edit' | 'delete';
  client: string;
  /** Defaults to `op-<index>`; a post's id is also its message id. */
  id?: string;
  /** edit/delete: the id of the post it targets. */
  target?: string;
  /** The publish fails (NACK/timeout): no ack, nothing committed. */
  fail?: string;
  /** Overrides the ack -> commit delay, to make commits overtake each other. */
  commitDelay?: number;
}

export interface SimDelays {
  ack: number;
  commit: number;
  publish: number;
  deliver: number;
}

export interface SimSpec {
  clients: SimClient[];
  ops: SimOp[];
  delays?: Partial<SimDelays>;
  /** Run end; defaults to 100 ms after the last event. */
  endT?: number;
  scenario?: string;
}

export interface SimRun {
  history: HistoryEvent[];
  final: FinalState;
}

const defaultDelays: SimDelays = { ack: 2, commit: 3, publish: 1, deliver: 1 };

interface PendingCommit {
  at: number;
  opId: string;
  op: SimOp;
  room: string;
}

export function simulate(spec: SimSpec): SimRun {
  const d = { ...defaultDelays, ...spec.delays };
  const clients = new Map(spec.clients.map((c) => [c.id, c]));
  const events: HistoryEvent[] = [];
  const rows = new Map<string, DbRow>();
  const rejections: DbRejection[] = [];
  const pending: PendingCommit[] = [];

  spec.ops.forEach((op, i) => {
    const c = clients.get(op.client);
    if (!c) throw new Error(`simulate: op ${i} names unknown client ${op.client}`);
    const opId = op.id ?? `op-${i}`;
    const messageId = op.op === 'post' ? opId : op.target;
    const text = op.op === 'delete' ? undefined : `${op.op} ${opId}`;
    events.push({ type: 'invoke', t: op.t, opId, op: op.op, client: op.client, room: c.room, messageId, text });
    if (op.fail) {
      events.push({ type: 'fail', t: op.t + d.ack, opId, error: op.fail });
      return;
    }
    events.push({ type: 'ack', t: op.t + d.ack, opId });
    pending.push({ at: op.t + d.ack + (op.commitDelay ?? d.commit), opId, op, room: c.room });
  });
  pending.sort((a, b) => a.at - b.at);

  let eventSeq = 0;
  const lastEdit = new Map<string, { t: number; opId: string }>();
  const changes: { at: number; row: DbRow; name: 'INSERT' | 'UPDATE' }[] = [];
  for (const p of pending) {
    const reject = (reason: string) =>
      rejections.push({ messageId: p.opId, room: p.room, author: p.op.client, name: p.op.op, reason });
    if (p.op.op === 'post') {
      const row: DbRow = {
        id: p.opId, room: p.room, author: p.op.client, text: `post ${p.opId}`,
        version: 1, deleted: false, createdT: p.at, updatedT: p.at,
      };
      rows.set(row.id, row);
      changes.push({ at: p.at, row: { ...row }, name: 'INSERT' });
      continue;
    }
    const row = p.op.target === undefined ? undefined : rows.get(p.op.target);
    if (!row) { reject('message not found'); continue; }
    if (row.author !== p.op.client) { reject('not the author'); continue; }
    if (row.deleted) { reject('message deleted'); continue; }
    row.version++;
    row.updatedT = p.at;
    // As the chat-writer does: an edit's text lands only if it was sent after every edit applied so far.
    const last = lastEdit.get(row.id);
    if (p.op.op === 'delete') row.deleted = true;
    else if (!last || p.op.t > last.t || (p.op.t === last.t && p.opId > last.opId)) {
      row.text = `edit ${p.opId}`;
      lastEdit.set(row.id, { t: p.op.t, opId: p.opId });
    }
    changes.push({ at: p.at, row: { ...row }, name: 'UPDATE' });
  }

  const views = new Map<string, Map<string, ViewRow>>();
  const attached = (c: SimClient, at: number) => (c.joinT ?? 0) <= at && (c.leaveT === undefined || at <= c.leaveT);
  for (const c of spec.clients) {
    events.push({ type: 'subscribe', t: c.joinT ?? 0, client: c.id, room: c.room });
    if (c.leaveT !== undefined) events.push({ type: 'unsubscribe', t: c.leaveT, client: c.id, room: c.room });
    // A late joiner's history load: the live rows committed before it attached.
    const view = new Map<string, ViewRow>();
    for (const ch of changes) {
      if (ch.row.room !== c.room || ch.at >= (c.joinT ?? 0)) continue;
      if (ch.row.deleted) view.delete(ch.row.id);
      else view.set(ch.row.id, toViewRow(ch.row));
    }
    views.set(c.id, view);
  }

  const receives: ReceiveEvent[] = [];
  for (const ch of changes) {
    const eventId = `ev-${++eventSeq}`;
    const position = [eventSeq, eventSeq];
    const publishT = ch.at + d.publish;
    spec.clients.forEach((c, idx) => {
      // Only what is published while it is attached reaches a client.
      if (c.room !== ch.row.room || !attached(c, ch.at) || !attached(c, publishT)) return;
      receives.push({
        type: 'receive', t: publishT + d.deliver + idx * 0.01, client: c.id, room: c.room, eventId,
        name: ch.name, messageId: ch.row.id, version: ch.row.version, deleted: ch.row.deleted,
        text: ch.row.text, author: ch.row.author, commitT: ch.at, publishT, position, applied: false,
      });
    });
  }
  receives.sort((a, b) => a.t - b.t);
  for (const r of receives) {
    const view = views.get(r.client)!;
    const cur = view.get(r.messageId);
    r.applied = !cur || r.version > cur.version;
    if (r.applied) view.set(r.messageId, { id: r.messageId, text: r.text, version: r.version, deleted: r.deleted, author: r.author });
  }
  for (const r of receives) events.push(r);

  const lastT = events.reduce((m, e) => Math.max(m, e.t), 0);
  const endT = spec.endT ?? lastT + 100;
  for (const c of spec.clients) {
    if (c.leaveT !== undefined) continue;
    const rowsOf = [...views.get(c.id)!.values()].sort((a, b) => a.id.localeCompare(b.id));
    events.push({ type: 'view', t: endT - 1, client: c.id, room: c.room, rows: rowsOf });
  }
  events.sort((a, b) => a.t - b.t);
  events.unshift({ type: 'run-start', t: 0, scenario: spec.scenario ?? 'sim', seed: 1, epochMs: 1_700_000_000_000, options: {} });
  events.push({ type: 'run-end', t: endT });
  return { history: events, final: { rows: [...rows.values()], rejections } };
}

function toViewRow(r: DbRow): ViewRow {
  return { id: r.id, text: r.text, version: r.version, deleted: r.deleted, author: r.author };
}

/** Deep copy, so that a test can plant a defect without touching the shared clean run. */
export function cloneRun(run: SimRun): SimRun {
  return structuredClone(run);
}
