/**
 * The abuse scenario's sections of the report, from the history: every attack class with its
 * attempts, refusals by code and what got through; and the stack processes' memory over the run
 * (the realtime service's growth is the figure the scenario states).
 */
import type { AttackEvent, HistoryEvent, ResourcesEvent } from '../history/types.ts';
import { markdownTable, textTable } from '../lib/table.ts';

/** An attack event as the report shows it, with its verdict. */
export interface AttackRow extends Omit<AttackEvent, 'type' | 't'> {
  /** Refused at least once, only with the expected codes, nothing past the limit. */
  asExpected: boolean;
}

export interface PartMemory {
  part: string;
  startMiB: number;
  maxMiB: number;
  endMiB: number;
  /** Highest sample minus the first: what the run added. */
  growthMiB: number;
}

export interface MemorySummary {
  samples: number;
  parts: PartMemory[];
  /** Every sample: seconds since the run's start and RSS per part, MiB. */
  timeline: Array<{ t: number; rssMiB: Record<string, number> }>;
}

export function attackRows(history: readonly HistoryEvent[]): AttackRow[] | undefined {
  const events = history.filter((e): e is AttackEvent => e.type === 'attack');
  if (!events.length) return undefined;
  return events.map(({ type: _type, t: _t, ...row }) => {
    const wrongCode = Object.keys(row.codes).some((c) => !row.expectedCodes.includes(c));
    return { ...row, asExpected: row.attempts > 0 && row.refused > 0 && row.unexpected === 0 && !wrongCode };
  });
}

const round1 = (x: number) => Math.round(x * 10) / 10;

export function memorySummary(history: readonly HistoryEvent[]): MemorySummary | undefined {
  const samples = history.filter((e): e is ResourcesEvent => e.type === 'resources');
  if (!samples.length) return undefined;
  const byPart = new Map<string, number[]>();
  for (const s of samples) for (const p of s.parts) (byPart.get(p.part) ?? byPart.set(p.part, []).get(p.part)!).push(p.rssMiB);
  return {
    samples: samples.length,
    parts: [...byPart].map(([part, xs]) => ({ part, startMiB: xs[0]!, maxMiB: Math.max(...xs), endMiB: xs.at(-1)!, growthMiB: round1(Math.max(...xs) - xs[0]!) })),
    timeline: samples.map((s) => ({ t: round1(s.t / 1000), rssMiB: Object.fromEntries(s.parts.map((p) => [p.part, p.rssMiB])) })),
  };
}

const codesText = (r: AttackRow) => Object.entries(r.codes).map(([c, n]) => `${c} x${n}`).join(', ') || '-';

export function attackTable(rows: readonly AttackRow[]): { header: string[]; body: string[][] } {
  return {
    header: ['attack', 'attempts', 'refused', 'codes seen', 'allowed by the limit', 'unexpected successes', 'result'],
    body: rows.map((r) => [r.attack, String(r.attempts), String(r.refused), codesText(r), String(r.allowed), String(r.unexpected), r.asExpected ? 'refused' : `WRONG${r.detail ? ` (${r.detail})` : ''}`]),
  };
}

/** At most `n` rows of the timeline, evenly spaced, always with the first and last. */
export function thin<T>(xs: readonly T[], n: number): T[] {
  if (xs.length <= n) return [...xs];
  return Array.from({ length: n }, (_, i) => xs[Math.round((i * (xs.length - 1)) / (n - 1))]!);
}

const ALIGN = ['left', 'right', 'right', 'left', 'right', 'right', 'left'] as const;
export const REALTIME = 'realtime';

export function abuseMarkdown(attacks: readonly AttackRow[] | undefined, memory: MemorySummary | undefined): string[] {
  const out: string[] = [];
  if (attacks) {
    const t = attackTable(attacks);
    out.push('## Attacks', '', 'Each class of attack, how often it was tried, and how the stack answered (Ably error codes, AWS error types, WebSocket close codes). "Allowed by the limit" is what a limit lets through (a flood\'s first messages of each second); an unexpected success is what it should have refused.', '');
    out.push(markdownTable(t.header, t.body, [...ALIGN]), '');
    out.push(...attacks.map((a) => `- \`${a.attack}\`: ${a.description} (expected ${a.expectedCodes.join(' or ')})`), '');
  }
  if (memory) {
    out.push('## Memory (RSS of each stack process, MiB)', '');
    out.push(markdownTable(['part', 'at start', 'max', 'at end', 'growth'], memory.parts.map((p) => [p.part, String(p.startMiB), String(p.maxMiB), String(p.endMiB), String(p.growthMiB)]), ['left', 'right', 'right', 'right', 'right']), '');
    const rows = thin(memory.timeline, 16).filter((s) => s.rssMiB[REALTIME] !== undefined);
    if (rows.length) {
      out.push(`The realtime service over the run (${memory.samples} samples, about one a second):`, '');
      out.push(markdownTable(['t (s)', 'realtime RSS (MiB)'], rows.map((s) => [s.t.toFixed(1), String(s.rssMiB[REALTIME])]), ['right', 'right']), '');
    }
  }
  return out;
}

export function abuseSummary(attacks: readonly AttackRow[] | undefined, memory: MemorySummary | undefined): string[] {
  const out: string[] = [];
  if (attacks) {
    const t = attackTable(attacks);
    out.push(textTable(t.header, t.body, [...ALIGN]), '');
  }
  const rt = memory?.parts.find((p) => p.part === REALTIME);
  if (rt) out.push(`realtime service RSS: ${rt.startMiB} MiB at start, ${rt.maxMiB} MiB at most, ${rt.endMiB} MiB at end (growth ${rt.growthMiB} MiB over ${memory!.samples} samples)`, '');
  return out;
}
