/** REST history paging over a channel's retained records, newest first unless asked otherwise. */
import { z } from 'zod';
import type { Channel } from '../channel.ts';
import { Errors } from '../protocol/errors.ts';
import type { StoredMessage } from '../protocol/payload.ts';

const num = z.coerce.number().int().min(0);
export const historyQuerySchema = z.object({
  start: num.optional(),
  end: num.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  direction: z.enum(['backwards', 'forwards']).default('backwards'),
  cursor: z.string().regex(/^\d+\.\d+$/).optional(),
  /** Set by `history({untilAttach: true})`: the attach's channel serial; later messages are left out. */
  from_serial: z.string().min(1).max(200).optional(),
});
export type HistoryQuery = z.infer<typeof historyQuerySchema>;

export function parseHistoryQuery(params: URLSearchParams): HistoryQuery {
  const r = historyQuerySchema.safeParse(Object.fromEntries(params));
  if (!r.success) {
    const issue = r.error.issues[0];
    throw Errors.badRequest(`Invalid history parameter ${issue?.path.join('.')}: ${issue?.message}`);
  }
  if (r.data.start !== undefined && r.data.end !== undefined && r.data.start > r.data.end) throw Errors.badRequest('Invalid history parameters: start is after end');
  return r.data;
}

export interface HistoryPage {
  items: StoredMessage[];
  /** Cursor of the last item when more items follow. */
  next?: string;
}

export function pageHistory(ch: Channel | undefined, q: HistoryQuery): HistoryPage {
  if (!ch) return { items: [] };
  ch.trim(Date.now());
  const records = ch.history();
  const until = q.from_serial === undefined ? undefined : ch.parseSerial(q.from_serial);
  if (q.from_serial !== undefined && until === undefined) throw Errors.badRequest(`Invalid history parameter from_serial: "${q.from_serial.slice(0, 100)}" is not a serial of this channel`);
  const back = q.direction === 'backwards';
  const [cSeq, cIdx] = q.cursor ? q.cursor.split('.').map(Number) as [number, number] : [undefined, undefined];
  const items: StoredMessage[] = [];
  let last = '';
  const n = records.length;
  for (let k = 0; k < n; k++) {
    const r = records[back ? n - 1 - k : k]!;
    if (until !== undefined && r.seq > until) {
      if (back) continue;
      break;
    }
    if (q.start !== undefined && r.timestamp < q.start) {
      if (back) break;
      continue;
    }
    if (q.end !== undefined && r.timestamp > q.end) {
      if (back) continue;
      break;
    }
    const m = r.messages.length;
    for (let j = 0; j < m; j++) {
      const idx = back ? m - 1 - j : j;
      if (cSeq !== undefined) {
        const before = r.seq < cSeq || (r.seq === cSeq && idx < cIdx!);
        const after = r.seq > cSeq || (r.seq === cSeq && idx > cIdx!);
        if (back ? !before : !after) continue;
      }
      if (items.length === q.limit) return { items, next: last };
      items.push(r.messages[idx]!);
      last = `${r.seq}.${idx}`;
    }
  }
  return { items };
}

/** Ably's Link header: relative `./messages?...` URLs that the SDK turns into the next request's params. */
export function linkHeader(q: HistoryQuery, next: string | undefined): string {
  const base = new URLSearchParams();
  if (q.start !== undefined) base.set('start', String(q.start));
  if (q.end !== undefined) base.set('end', String(q.end));
  base.set('limit', String(q.limit));
  base.set('direction', q.direction);
  if (q.from_serial !== undefined) base.set('from_serial', q.from_serial);
  const links = [`<./messages?${base}>; rel="first"`];
  if (next) {
    const p = new URLSearchParams(base);
    p.set('cursor', next);
    links.push(`<./messages?${p}>; rel="next"`);
  }
  return links.join(', ');
}
