/**
 * The floor: the least the chat's path can cost on this machine and this Postgres. One INSERT
 * whose trigger calls pg_notify, one LISTEN client that forwards the payload over one WebSocket
 * hop, one at a time on an idle path. Latencies of a run are read as ratios to it, so a slow
 * machine and a slow stack can be told apart.
 *
 * The table and trigger function are temporary (pg_temp) in the writer's session: nothing is
 * left in the database and two measurements never share a table.
 */
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { WebSocket, WebSocketServer } from 'ws';
import { z } from 'zod';
import type { FloorEvent } from '../history/types.ts';

/** The floor's summary is what the history records of it. */
export type FloorResult = Omit<FloorEvent, 'type' | 't'>;

export const floorOptionsSchema = z.object({
  /** Measured round trips (after the warm-up). */
  samples: z.number().int().min(10).max(100_000).default(300),
  warmup: z.number().int().min(0).max(10_000).default(30),
  /** Pause between two round trips: the path is idle when each INSERT starts. */
  gapMs: z.number().min(0).max(1_000).default(2),
  /** Bound on the whole measurement. */
  timeoutMs: z.number().int().positive().max(600_000).default(30_000),
});
export type FloorOptions = z.input<typeof floorOptionsSchema>;

export async function measureFloor(databaseUrl: string, options: FloorOptions = {}): Promise<FloorResult> {
  const o = floorOptionsSchema.parse(options);
  const channel = `floor_${randomBytes(6).toString('hex')}`;
  const writer = new pg.Client({ connectionString: databaseUrl });
  const listener = new pg.Client({ connectionString: databaseUrl });
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  let ws: WebSocket | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.all([writer.connect(), listener.connect(), once(wss, 'listening')]);
    const port = (wss.address() as AddressInfo).port;
    const accepted = once(wss, 'connection') as Promise<[WebSocket]>;
    ws = new WebSocket(`ws://127.0.0.1:${port}`);
    await once(ws, 'open');
    const [server] = await accepted;
    listener.on('notification', (n) => server.send(n.payload ?? ''));
    await listener.query(`LISTEN ${channel}`);
    await writer.query('CREATE TEMP TABLE floor_rows (id bigint PRIMARY KEY, room text NOT NULL, payload text NOT NULL, created_at timestamptz NOT NULL DEFAULT clock_timestamp())');
    await writer.query(`CREATE FUNCTION pg_temp.floor_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM pg_notify('${channel}', json_build_object('table', TG_TABLE_NAME, 'type', TG_OP, 'row', NEW)::text); RETURN NULL; END $$`);
    await writer.query('CREATE TRIGGER floor_notify AFTER INSERT ON floor_rows FOR EACH ROW EXECUTE FUNCTION pg_temp.floor_notify()');

    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`floor: not done within ${o.timeoutMs} ms`)), o.timeoutMs);
    });
    const client = ws;
    const roundTrip = async (id: number): Promise<number> => {
      const got = once(client, 'message');
      const start = performance.now();
      await writer.query('INSERT INTO floor_rows (id, room, payload) VALUES ($1, $2, $3)', [id, 'floor', 'x'.repeat(64)]);
      await got;
      return performance.now() - start;
    };
    const run = async (): Promise<number[]> => {
      const out: number[] = [];
      for (let i = 0; i < o.warmup + o.samples; i++) {
        const ms = await roundTrip(i);
        if (i >= o.warmup) out.push(ms);
        if (o.gapMs > 0) await new Promise((r) => setTimeout(r, o.gapMs));
      }
      return out;
    };
    return summarize(await Promise.race([run(), timedOut]));
  } finally {
    clearTimeout(timer);
    ws?.terminate();
    for (const c of wss.clients) c.terminate();
    wss.close();
    await Promise.allSettled([writer.end(), listener.end()]);
  }
}

function summarize(ms: number[]): FloorResult {
  const s = [...ms].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
  const r3 = (x: number) => Math.round(x * 1000) / 1000;
  return { samples: s.length, p50Ms: r3(at(50)), p90Ms: r3(at(90)), p99Ms: r3(at(99)), maxMs: r3(s[s.length - 1]!), minMs: r3(s[0]!) };
}
