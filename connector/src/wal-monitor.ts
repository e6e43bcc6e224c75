/**
 * Watches the replication slot from every instance, leader or standby: its lag, and whether anyone
 * consumes it. A slot nobody reads keeps every WAL segment written since its confirmed position,
 * so a retired or long-dead connector can fill the database's disk; Postgres's only guard is
 * max_slot_wal_keep_size, which is unlimited (-1) by default.
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import type { ConnectorMetrics } from './metrics.ts';

export interface SlotStatus {
  name: string;
  exists: boolean;
  active: boolean;
  lagBytes: number;
  lagSeconds: number;
  /** Seconds without a consumer, as seen by this instance (0 while consumed). */
  unconsumedSeconds: number;
  /** pg_replication_slots.wal_status: reserved, extended, unreserved or lost. */
  walStatus: string | null;
}

interface SlotRow {
  active: boolean;
  bytes: number | null;
  wal_status: string | null;
  keep: string;
}

export class SlotMonitor {
  private inactiveSince?: number;
  private lastWarned = -Infinity;
  private status: SlotStatus;

  constructor(
    private readonly slot: string,
    private readonly warnAfterSeconds: number,
    private readonly metrics: ConnectorMetrics,
    private readonly log: Logger,
  ) {
    this.status = { name: slot, exists: false, active: false, lagBytes: 0, lagSeconds: 0, unconsumedSeconds: 0, walStatus: null };
  }

  current(): SlotStatus {
    return { ...this.status };
  }

  /** `lagSeconds`: the active worker's own measure (the age of what it holds unacknowledged). */
  async poll(c: pg.ClientBase, lagSeconds: number, now = Date.now()): Promise<SlotStatus> {
    const r = await c.query<SlotRow>(
      `SELECT active, pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::float8 AS bytes, wal_status,
              current_setting('max_slot_wal_keep_size') AS keep
         FROM pg_replication_slots WHERE slot_name = $1`,
      [this.slot],
    );
    const row = r.rows[0];
    if (!row || !row.active) this.inactiveSince ??= now;
    else this.inactiveSince = undefined;
    const unconsumed = this.inactiveSince === undefined ? 0 : (now - this.inactiveSince) / 1000;
    this.status = {
      name: this.slot,
      exists: row !== undefined,
      active: row?.active ?? false,
      lagBytes: Math.max(0, row?.bytes ?? 0),
      lagSeconds,
      unconsumedSeconds: unconsumed,
      walStatus: row?.wal_status ?? null,
    };
    this.metrics.slot(this.status.lagBytes, lagSeconds, unconsumed);
    if (row && unconsumed >= this.warnAfterSeconds && now - this.lastWarned >= this.warnAfterSeconds * 1000) {
      this.lastWarned = now;
      this.log.warn(
        { slot: this.slot, unconsumedSeconds: Math.round(unconsumed), lagBytes: this.status.lagBytes, walStatus: row.wal_status, maxSlotWalKeepSize: row.keep },
        `replication slot ${this.slot} has had no consumer for ${Math.round(unconsumed)} s and holds ${this.status.lagBytes} bytes of WAL, which Postgres keeps until the slot is read or dropped: ` +
          `cap it with max_slot_wal_keep_size (now ${row.keep}), and drop a slot no connector will read again with SELECT pg_drop_replication_slot('${this.slot}')`,
      );
    }
    return this.current();
  }
}
