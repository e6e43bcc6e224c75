/** What each stack part's CPU cost over the load window, per committed change (from the generator event). */
import type { GeneratorCostEvent, HistoryEvent } from '../history/types.ts';
import type { StackCost } from './types.ts';

export function stackCost(history: readonly HistoryEvent[], changes: number): StackCost | undefined {
  const g = history.find((e): e is GeneratorCostEvent => e.type === 'generator');
  if (!g?.parts?.length) return undefined;
  return {
    windowMs: Math.round(g.windowMs),
    changes,
    parts: g.parts.map((p) => ({
      part: p.part,
      cpuMs: p.cpuMs,
      cpuPercent: g.windowMs > 0 ? Math.round((p.cpuMs / g.windowMs) * 1000) / 10 : 0,
      usPerChange: changes > 0 ? Math.round((p.cpuMs * 1000) / changes) : null,
    })),
  };
}

/** CPU per change (µs) of the parts whose name starts with `prefix` (all connectors: "connector"). */
export function usPerChangeOf(cost: StackCost | undefined, prefix: string): number | undefined {
  const parts = cost?.parts.filter((p) => p.part === prefix || p.part.startsWith(`${prefix} `)) ?? [];
  if (!parts.length || !cost || cost.changes <= 0) return undefined;
  return Math.round((parts.reduce((a, p) => a + p.cpuMs, 0) * 1000) / cost.changes);
}
