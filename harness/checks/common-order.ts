/**
 * common-order: the subscribers of a room's incoming channel see its events in one and the same
 * relative order.
 *
 * Each subscriber's sequence of first receipts gives "x before y" edges between consecutive
 * events; all sequences agree with one total order exactly when the union of those edges has
 * no cycle. That is stronger than comparing subscribers pairwise (three subscribers can agree
 * pairwise and still disagree as a whole), and it costs linear time instead of quadratic.
 */
import type { FinalState, HistoryEvent } from '../history/types.ts';
import { indexRun, maxOf, minOf } from './model.ts';

export interface OrderEdge { from: string; to: string; client: string; t: number }
export interface OrderCycle { room: string; events: number; cycle: OrderEdge[] }

export interface CommonOrderAnalysis {
  rooms: number;
  events: number;
  /** Strongly connected groups of events that subscribers saw in contradicting orders. */
  cycles: OrderCycle[];
}

export function analyzeCommonOrder(history: readonly HistoryEvent[], final: FinalState): CommonOrderAnalysis {
  const idx = indexRun(history, final);
  const byRoom = new Map<string, { adj: Map<string, Set<string>>; edges: Map<string, OrderEdge> }>();
  for (const rs of idx.receivesBySub.values()) {
    const room = rs[0]!.room;
    let g = byRoom.get(room);
    if (!g) byRoom.set(room, (g = { adj: new Map(), edges: new Map() }));
    const seen = new Set<string>();
    let prev: string | undefined;
    for (const r of rs) {
      if (seen.has(r.eventId)) continue;
      seen.add(r.eventId);
      if (!g.adj.has(r.eventId)) g.adj.set(r.eventId, new Set());
      if (prev !== undefined) {
        g.adj.get(prev)!.add(r.eventId);
        const k = `${prev}\u0000${r.eventId}`;
        if (!g.edges.has(k)) g.edges.set(k, { from: prev, to: r.eventId, client: r.client, t: r.t });
      }
      prev = r.eventId;
    }
  }
  const out: CommonOrderAnalysis = { rooms: byRoom.size, events: 0, cycles: [] };
  for (const [room, g] of byRoom) {
    out.events += g.adj.size;
    for (const scc of stronglyConnected(g.adj)) {
      if (scc.length < 2) continue;
      out.cycles.push({ room, events: scc.length, cycle: findCycle(scc, g.adj, g.edges) });
    }
  }
  return out;
}

/** Tarjan's algorithm, iterative so that long histories cannot overflow the stack. */
export function stronglyConnected(adj: Map<string, Set<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const result: string[][] = [];
  let counter = 0;
  for (const root of adj.keys()) {
    if (index.has(root)) continue;
    const work: { node: string; it: Iterator<string> }[] = [];
    const enter = (node: string) => {
      index.set(node, counter);
      low.set(node, counter++);
      stack.push(node);
      onStack.add(node);
      work.push({ node, it: (adj.get(node) ?? new Set<string>()).values() });
    };
    enter(root);
    while (work.length) {
      const top = work[work.length - 1]!;
      const next = top.it.next();
      if (!next.done) {
        const w = next.value;
        if (!index.has(w)) enter(w);
        else if (onStack.has(w)) low.set(top.node, Math.min(low.get(top.node)!, index.get(w)!));
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(top.node)!));
      if (low.get(top.node) === index.get(top.node)) {
        const comp: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          comp.push(w);
        } while (w !== top.node);
        result.push(comp);
      }
    }
  }
  return result;
}

/** A shortest cycle through the component's first event, as the edges (and who saw them). */
function findCycle(scc: string[], adj: Map<string, Set<string>>, edges: Map<string, OrderEdge>): OrderEdge[] {
  const members = new Set(scc);
  const start = scc[0]!;
  const parent = new Map<string, string>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const node = queue[i]!;
    for (const next of adj.get(node) ?? []) {
      if (!members.has(next)) continue;
      if (next === start) {
        const path = [node];
        while (path[0] !== start) path.unshift(parent.get(path[0]!)!);
        path.push(start);
        return path.slice(1).map((to, j) => edges.get(`${path[j]}\u0000${to}`)!);
      }
      if (!parent.has(next)) {
        parent.set(next, node);
        queue.push(next);
      }
    }
  }
  return [];
}

export function commonOrderChecker() {
  return (history: readonly HistoryEvent[], final: FinalState) => {
    const a = analyzeCommonOrder(history, final);
    const details: Record<string, unknown> = {
      rooms: a.rooms,
      events: a.events,
      eventsInConflict: a.cycles.reduce((n, c) => n + c.events, 0),
    };
    if (!a.cycles.length) return { valid: true as const, details };
    details.conflicts = a.cycles.slice(0, 5);
    // The contradiction is complete once the last edge of the first cycle was observed.
    const failedAt = minOf(a.cycles.map((c) => maxOf(c.cycle.map((e) => e.t))));
    return { valid: false as const, details, failedAt };
  };
}
