import { type Edge, isProduction, partOf } from './graph.ts';

/** A broken rule, worded so the failing test names the edge or the cycle. */
export type Violation = string;

const CHECKS_MAY_IMPORT = new Set(['harness/checks', 'harness/history', 'reference-app/contract', 'harness/lib']);

/**
 * The connector's shipped code: `connector/src/**` once that layout exists, else its
 * top-level files (tests, `testing/` and `bench/` are already not production).
 */
function isShippedConnector(file: string, files: ReadonlySet<string>): boolean {
  if (!file.startsWith('connector/')) return false;
  const hasSrc = [...files].some((f) => f.startsWith('connector/src/'));
  return hasSrc ? file.startsWith('connector/src/') : !file.slice('connector/'.length).includes('/');
}

function edgeRule(edge: Edge, files: ReadonlySet<string>): string | undefined {
  const from = partOf(edge.from);
  const to = partOf(edge.to);
  if (from === undefined || to === undefined || from === to) return undefined;
  if (from === 'harness/lib') return 'harness/lib imports nothing of the repository';
  if (from === 'scenarios/k6') return 'the k6 scripts import nothing outside scenarios/k6 (k6 cannot load the project\'s modules)';
  if (to.startsWith('harness/') && (from.startsWith('reference-app/') || isShippedConnector(edge.from, files))) {
    return 'the chat and the connector never import the harness';
  }
  if ((from === 'harness/realtime' || from === 'harness/lambda') && to.startsWith('reference-app/')) {
    return 'the realtime and Lambda stand-ins never import the chat';
  }
  if (from === 'harness/checks' && !CHECKS_MAY_IMPORT.has(to)) {
    return 'checks import only harness/history, reference-app/contract and harness/lib';
  }
  return undefined;
}

/** Part-level cycles, each reported once as `a -> b -> ... -> a` (Tarjan's strongly connected components). */
export function partCycles(edges: readonly Edge[]): string[][] {
  const next = new Map<string, Set<string>>();
  for (const e of edges) {
    const a = partOf(e.from);
    const b = partOf(e.to);
    if (a === undefined || b === undefined || a === b) continue;
    next.set(a, (next.get(a) ?? new Set()).add(b));
  }
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const components: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) visit(w);
      if (stack.includes(w)) low.set(v, Math.min(low.get(v)!, low.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    for (let w = stack.pop()!; ; w = stack.pop()!) {
      component.push(w);
      if (w === v) break;
    }
    if (component.length > 1) components.push(component.sort());
  };
  for (const v of next.keys()) if (!index.has(v)) visit(v);
  return components;
}

/** Every broken dependency rule of a graph; empty when the architecture holds. */
export function dependencyViolations(edges: readonly Edge[]): Violation[] {
  const production = edges.filter((e) => isProduction(e.from));
  const files = new Set(edges.flatMap((e) => [e.from, e.to]));
  const out: Violation[] = [];
  for (const edge of production) {
    const rule = edgeRule(edge, files);
    if (rule !== undefined) out.push(`${edge.from} -> ${edge.to}: ${rule}`);
  }
  for (const component of partCycles(production)) {
    // One example import per pair of parts in the cycle is enough to find and cut it.
    const example = new Map<string, string>();
    for (const e of production) {
      const a = partOf(e.from)!;
      const b = partOf(e.to)!;
      if (a !== b && component.includes(a) && component.includes(b) && !example.has(`${a} -> ${b}`)) {
        example.set(`${a} -> ${b}`, `${e.from} -> ${e.to}`);
      }
    }
    const lines = [...example].map(([pair, edge]) => `${pair} (e.g. ${edge})`);
    out.push(`cycle between parts ${component.join(', ')}:\n    ${lines.join('\n    ')}`);
  }
  return out;
}
