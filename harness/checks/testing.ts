/** Handmade runs for the checkers' tests: one clean run, and helpers to plant a defect in a copy. */
import { cloneRun, simulate, type SimRun } from '../history/simulate.ts';
import type { HistoryEvent, ReceiveEvent, ViewEvent } from '../history/types.ts';

/**
 * Two rooms. lobby: a and b from the start, c joins late (t=50), d leaves early (t=80).
 * Posts, edits (one hot message edited three times), a delete, a refused edit by a non-author,
 * and a failed publish.
 */
export function cleanRun(): SimRun {
  return simulate({
    clients: [
      { id: 'a', room: 'lobby' },
      { id: 'b', room: 'lobby' },
      { id: 'c', room: 'lobby', joinT: 50 },
      { id: 'd', room: 'lobby', leaveT: 80 },
      { id: 'x', room: 'den' },
      { id: 'y', room: 'den' },
    ],
    ops: [
      { t: 10, op: 'post', client: 'a', id: 'm1' },
      { t: 12, op: 'post', client: 'b', id: 'm2' },
      { t: 14, op: 'post', client: 'x', id: 'm3' },
      { t: 20, op: 'edit', client: 'a', target: 'm1', id: 'e1' },
      { t: 30, op: 'edit', client: 'a', target: 'm1', id: 'e2' },
      { t: 32, op: 'post', client: 'b', id: 'm4' },
      { t: 40, op: 'delete', client: 'b', target: 'm4', id: 'd1' },
      { t: 60, op: 'edit', client: 'a', target: 'm1', id: 'e3' },
      { t: 62, op: 'edit', client: 'b', target: 'm1', id: 'forged' },
      { t: 64, op: 'edit', client: 'x', target: 'm3', id: 'e4' },
      { t: 70, op: 'post', client: 'c', id: 'm5' },
      { t: 75, op: 'post', client: 'y', id: 'm6', fail: 'nack 50000' },
      { t: 90, op: 'edit', client: 'b', target: 'm2', id: 'e5' },
    ],
  });
}

export function receivesOf(run: SimRun, f: (r: ReceiveEvent) => boolean): ReceiveEvent[] {
  return run.history.filter((e): e is ReceiveEvent => e.type === 'receive' && f(e));
}

export function removeEvents(run: SimRun, f: (e: HistoryEvent) => boolean): SimRun {
  const copy = cloneRun(run);
  copy.history = copy.history.filter((e) => !f(e));
  return copy;
}

/** Inserts an event at its place in time order. */
export function insertEvent(run: SimRun, e: HistoryEvent): SimRun {
  const copy = cloneRun(run);
  const at = copy.history.findIndex((x) => x.t > e.t && x.type !== 'run-start');
  copy.history.splice(at < 0 ? copy.history.length - 1 : at, 0, e);
  return copy;
}

export function viewOf(run: SimRun, client: string): ViewEvent {
  const v = run.history.find((e): e is ViewEvent => e.type === 'view' && e.client === client);
  if (!v) throw new Error(`no view for ${client}`);
  return v;
}
