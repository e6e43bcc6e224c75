import { describe, expect, it } from 'vitest';
import pg from 'pg';
import { freshDatabase } from '../testing/pg.ts';
import { measureFloor } from './floor.ts';

describe('the floor (INSERT -> pg_notify -> LISTEN -> one WebSocket hop)', () => {
  it('measures every round trip through the real database and leaves nothing behind', async () => {
    const url = await freshDatabase({ migrate: false });
    const f = await measureFloor(url, { samples: 40, warmup: 5, gapMs: 0 });
    expect(f.samples).toBe(40);
    expect(f.minMs).toBeGreaterThan(0);
    // The summary's order statistics are consistent (a property of the summary, not a speed).
    const stats = [f.minMs, f.p50Ms, f.p90Ms, f.p99Ms, f.maxMs];
    expect(stats).toEqual([...stats].sort((a, b) => a - b));
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      const left = await c.query("SELECT count(*)::int AS n FROM pg_class WHERE relname = 'floor_rows'");
      expect(left.rows[0].n).toBe(0);
    } finally {
      await c.end();
    }
  });

  it('refuses options out of range, naming the field', async () => {
    await expect(measureFloor('postgres://unused', { samples: 1 })).rejects.toThrow(/samples/);
  });
});
