/**
 * Whether writers NOTIFY the connector of each change ("push") or the connector reads the outbox
 * on its own, every few milliseconds ("pull").
 *
 * Why: a transaction that NOTIFYs takes a database-wide lock at commit and holds it through its
 * commit record's flush, so notifying writers commit one at a time; on the benchmark's Postgres
 * that halves the insert rate and doubles Postgres's CPU per insert. Under a steady stream of
 * changes the notifications carry no news (the connector is busy anyway), so above
 * `timing.pullAbovePerSecond` the connector clears `wake` in its meta row and the trigger skips
 * the NOTIFY; well below it, it sets `wake` again. Below that rate push mode is kept for its
 * latency: a notification is published as it arrives, where a read waits for its turn.
 *
 * Leaving pull mode is the delicate step: a writer that read `wake` as false just before it was
 * set will commit without a notification, possibly after the connector's last read. Until every
 * transaction that could have done so has finished (the server's oldest running transaction is
 * newer than any that existed when `wake` was set), the worker keeps reading on a timer and does
 * not publish from notifications ("settling"). A new leader starts in that state, since its
 * predecessor may have died in pull mode.
 */
import type pg from 'pg';
import type { ObjectNames } from './sql.ts';

export type WakeMode = 'push' | 'pull' | 'settling';

/** Rate window; pull mode is left below this share of the rate that entered it (hysteresis). */
const WINDOW_MS = 50;
const EXIT_SHARE = 0.4;
/** In pull mode, the pause between reads that found the outbox drained. */
export const PULL_READ_GAP_MS = 1;

export class WakeSwitch {
  mode: WakeMode = 'settling';
  private settleAfter = 0n;
  private settleWaitMs = PULL_READ_GAP_MS;
  private windowStart = 0;
  private count = 0;
  /** Changes per window to enter pull mode (0: never), and fewer than `exit` rows to leave it. */
  private readonly enter: number;
  private readonly exit: number;

  constructor(
    private readonly n: ObjectNames,
    private readonly maxSettleWaitMs: number,
    pullAbovePerSecond: number,
  ) {
    this.enter = Math.ceil((pullAbovePerSecond * WINDOW_MS) / 1000);
    this.exit = Math.max(1, Math.floor(this.enter * EXIT_SHARE));
  }

  /** Counts one change seen while in push mode; true when the rate calls for pull mode. */
  notified(now: number): boolean {
    if (this.mode !== 'push' || this.enter === 0) return false;
    return this.tally(1, now) >= this.enter;
  }

  /** Counts rows read while in pull mode; true when the rate has fallen enough to push again. */
  read(rows: number, now: number): boolean {
    if (this.mode !== 'pull') return false;
    const started = this.windowStart;
    const n = this.tally(rows, now);
    return this.windowStart !== started && n < this.exit;
  }

  /** Adds to the current window; when a window ends, returns the finished window's total. */
  private tally(k: number, now: number): number {
    if (now - this.windowStart >= WINDOW_MS) {
      const finished = this.count;
      this.windowStart = now;
      this.count = k;
      return this.mode === 'pull' ? finished : this.count;
    }
    this.count += k;
    return this.count;
  }

  async enterPull(c: pg.ClientBase): Promise<void> {
    await c.query(`UPDATE ${this.n.meta} SET wake = false WHERE id = 1`);
    this.mode = 'pull';
    this.windowStart = performance.now();
    this.count = 0;
  }

  /** Sets `wake` and notes which transactions may still commit without a notification. */
  async leavePull(c: pg.ClientBase): Promise<void> {
    await c.query(`UPDATE ${this.n.meta} SET wake = true WHERE id = 1 AND wake IS NOT TRUE`);
    // Taken after the update committed: every transaction that read the old value has an id below this.
    const r = await c.query<{ x: string }>('SELECT pg_snapshot_xmax(pg_current_snapshot())::text AS x');
    this.settleAfter = BigInt(r.rows[0]!.x);
    this.settleWaitMs = PULL_READ_GAP_MS;
    this.mode = 'settling';
    this.windowStart = performance.now();
    this.count = 0;
  }

  /** In settling mode: switches to push once every such transaction has ended. */
  async settle(c: pg.ClientBase): Promise<void> {
    if (this.mode !== 'settling') return;
    const r = await c.query<{ x: string }>('SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS x');
    if (BigInt(r.rows[0]!.x) >= this.settleAfter) this.mode = 'push';
  }

  /** How long to wait before the next read while not in push mode (backs off while settling). */
  nextReadInMs(): number {
    if (this.mode === 'pull') return PULL_READ_GAP_MS;
    const wait = this.settleWaitMs;
    this.settleWaitMs = Math.min(this.maxSettleWaitMs, wait * 2);
    return wait;
  }
}
