/** Reading a saved run back: every line validated, errors naming the line and the field. */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describeIssue, finalStateSchema, historyEventSchema } from './schema.ts';
import type { FinalState, HistoryEvent } from './types.ts';

export const HISTORY_FILE = 'history.ndjson';
export const FINAL_STATE_FILE = 'final-state.json';

export interface RunData {
  history: HistoryEvent[];
  final: FinalState;
}

export class HistoryFormatError extends Error {}

export function parseHistoryLine(line: string, lineNo: number, source: string): HistoryEvent {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (err) {
    throw new HistoryFormatError(`${source}:${lineNo}: not JSON (${(err as Error).message})`);
  }
  const parsed = historyEventSchema.safeParse(raw);
  if (!parsed.success) {
    const type = typeof raw === 'object' && raw !== null && 'type' in raw ? String(raw.type) : '?';
    throw new HistoryFormatError(`${source}:${lineNo}: ${type} event, ${describeIssue(parsed.error)}`);
  }
  return parsed.data;
}

/** Streams the file so that long runs do not need the whole text in memory at once. */
export async function readHistory(path: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  let lineNo = 0;
  for await (const line of lines) {
    lineNo++;
    if (line.trim() === '') continue;
    events.push(parseHistoryLine(line, lineNo, path));
  }
  const first = events[0];
  if (!first || first.type !== 'run-start') {
    throw new HistoryFormatError(`${path}:1: expected a run-start event as the first line`);
  }
  return inClockOrder(events);
}

/**
 * Worker threads hand their events to the writer in batches, so lines of different threads
 * interleave out of time order; the history's order is its one clock's. Stable, so events of
 * equal time keep the order they were recorded in.
 */
export function inClockOrder(events: HistoryEvent[]): HistoryEvent[] {
  for (let i = 1; i < events.length; i++) {
    if (events[i]!.t < events[i - 1]!.t) return events.map((e, k) => [e, k] as const).sort((a, b) => a[0].t - b[0].t || a[1] - b[1]).map(([e]) => e);
  }
  return events;
}

export async function readFinalState(path: string): Promise<FinalState> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new HistoryFormatError(`${path}: ${(err as Error).message}`);
  }
  const parsed = finalStateSchema.safeParse(raw);
  if (!parsed.success) throw new HistoryFormatError(`${path}: ${describeIssue(parsed.error)}`);
  return parsed.data;
}

/** A run directory as the scenario command leaves it: history.ndjson + final-state.json. */
export async function readRun(dir: string): Promise<RunData> {
  const [history, final] = await Promise.all([
    readHistory(join(dir, HISTORY_FILE)),
    readFinalState(join(dir, FINAL_STATE_FILE)),
  ]);
  return { history, final };
}
