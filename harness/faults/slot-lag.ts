/**
 * slot-lag: every WAL connector stops, so nothing consumes the replication slot and Postgres keeps
 * the WAL written meanwhile; then they start again. The fault window says how far the slot fell
 * behind (bytes, seconds) and how long the connector took to catch up: the confirmed position
 * passing where the WAL ended when it restarted.
 */
import pg from 'pg';
import { parseDuration } from '../lib/duration.ts';
import { targetPart, type ConnectorControl, type FaultTargets } from '../stack/roles.ts';

export const SLOT_LAG_DEFAULT = '5s';
const CATCH_UP_TIMEOUT_MS = 60_000;
const HEALTH_TIMEOUT_MS = 10_000;

export interface SlotLagFault {
  detail: string;
  end(): Promise<string>;
}

export async function startSlotLag(targets: FaultTargets, value: string | undefined): Promise<SlotLagFault> {
  const holdMs = parseDuration(value ?? SLOT_LAG_DEFAULT);
  const running = targetPart(targets, 'connectors').filter((c) => c.running);
  const slot = await slotName(running);
  if (!slot) throw new Error(`slot-lag: no connector reported a replication slot within ${HEALTH_TIMEOUT_MS / 1000} s; it needs --connector-mode wal`);
  const t0 = performance.now();
  // All of them: a standby would otherwise take the slot over and nothing would lag.
  await Promise.all(running.map((c) => c.stop()));
  return {
    detail: `stopped ${running.map((c) => c.name).join(', ')} for ${holdMs} ms; slot ${slot} unconsumed`,
    end: async () => {
      // The nemesis may end it early (a DURATION shorter than VALUE): the slot still lags VALUE.
      const left = holdMs - (performance.now() - t0);
      if (left > 0) await new Promise((r) => setTimeout(r, left));
      const db = new pg.Client({ connectionString: targetPart(targets, 'postgres').connectionUri });
      await db.connect();
      try {
        const lag = await slotLag(db, slot);
        const stoppedS = ((performance.now() - t0) / 1000).toFixed(1);
        const t1 = performance.now();
        // One at a time: the first takes the slot, the others wait as standbys.
        for (const c of running) await c.start();
        const caught = await until(async () => (await slotLag(db, slot, lag.walEnd)).passed, CATCH_UP_TIMEOUT_MS);
        const seen = await healthSlot(running);
        return (
          `slot ${slot} behind by ${lag.bytes} bytes after ${stoppedS} s unconsumed; ` +
          (caught === undefined ? `NOT caught up within ${CATCH_UP_TIMEOUT_MS / 1000} s` : `caught up ${(performance.now() - t1).toFixed(0)} ms after the restart began`) +
          (seen ? `; connector health then: lag ${seen.lagBytes} bytes, ${seen.lagSeconds.toFixed(2)} s` : '')
        );
      } finally {
        await db.end();
      }
    },
  };
}

/**
 * Catch-up of a restarted WAL connector: until the slot's confirmed position passes the WAL's end
 * as of `since`-ish (now, when asked right after the restart).
 */
export async function slotCaughtUp(targets: FaultTargets, since: number): Promise<string> {
  const running = targetPart(targets, 'connectors').filter((c) => c.running);
  const slot = await slotName(running);
  if (!slot) return 'catch-up not measured: no connector reported its replication slot';
  const db = new pg.Client({ connectionString: targetPart(targets, 'postgres').connectionUri });
  await db.connect();
  try {
    const { bytes, walEnd } = await slotLag(db, slot);
    const caught = await until(async () => (await slotLag(db, slot, walEnd)).passed, CATCH_UP_TIMEOUT_MS);
    return caught === undefined
      ? `slot ${slot} NOT caught up within ${CATCH_UP_TIMEOUT_MS / 1000} s (${bytes} bytes behind at the restart)`
      : `slot ${slot} ${bytes} bytes behind at the restart, caught up ${(performance.now() - since).toFixed(0)} ms after the restart began`;
  } finally {
    await db.end();
  }
}

/** The slot's lag behind the WAL's end now, and whether its confirmed position has passed `target`. */
async function slotLag(db: pg.Client, slot: string, target?: string): Promise<{ bytes: number; walEnd: string; passed: boolean }> {
  const r = await db.query<{ bytes: number | null; wal_end: string; passed: boolean | null }>(
    `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::float8 AS bytes, pg_current_wal_lsn()::text AS wal_end,
            confirmed_flush_lsn >= $2::pg_lsn AS passed
       FROM pg_replication_slots WHERE slot_name = $1`,
    [slot, target ?? '0/0'],
  );
  const row = r.rows[0];
  if (!row) throw new Error(`slot-lag: replication slot ${slot} is gone`);
  return { bytes: Math.max(0, row.bytes ?? 0), walEnd: row.wal_end, passed: row.passed === true };
}

/** The slot the connectors read; a busy machine may leave a health request unanswered, so ask again for a while. */
async function slotName(connectors: readonly ConnectorControl[]): Promise<string | undefined> {
  const deadline = performance.now() + HEALTH_TIMEOUT_MS;
  while (performance.now() < deadline) {
    const name = (await Promise.all(connectors.map((c) => c.health()))).find((h) => h?.slot)?.slot?.name;
    if (name) return name;
    await new Promise((r) => setTimeout(r, 100));
  }
  return undefined;
}

async function healthSlot(connectors: readonly ConnectorControl[]): Promise<{ lagBytes: number; lagSeconds: number } | undefined> {
  const hs = await Promise.all(connectors.map((c) => c.health()));
  return hs.find((h) => h?.active)?.slot ?? hs.find((h) => h?.slot)?.slot;
}

async function until(cond: () => Promise<boolean>, timeoutMs: number): Promise<number | undefined> {
  const t0 = performance.now();
  while (performance.now() - t0 < timeoutMs) {
    if (await cond()) return performance.now() - t0;
    await new Promise((r) => setTimeout(r, 20));
  }
  return undefined;
}
