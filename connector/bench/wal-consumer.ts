/**
 * CPU per change of the WAL consumer and of the WAL sender, away from the writers: `--changes N`
 * single-row transactions are committed while nothing reads the slot, then the connector's WAL
 * worker (wal-reader.ts, its own process, publishes acknowledged at once) reads them back as fast
 * as it can. Nothing else of this bench runs meanwhile, so the figures do not depend on how many
 * writers share the cores, and two builds can be compared run against run.
 *
 *   npx tsx connector/bench/wal-consumer.ts [--changes 20000] [--rounds 3] [--rate R --seconds S]
 *
 * With `--rate`, each round instead reads live while 4 connections commit R single-row
 * transactions a second for S seconds (an open loop: the rate does not depend on how fast the
 * machine is), which is how the consumer and the WAL sender run beside writers.
 */
import { Command } from 'commander';
import pg from 'pg';
import { installSignalHandlers } from '../../harness/lib/cleanup.ts';
import { PostgresService } from '../../harness/stack/postgres/index.ts';
import { connectorReader, caughtUp, walSender } from './wal-reader-control.ts';
import { cpuMs } from './proc.ts';

async function main(): Promise<void> {
  installSignalHandlers();
  const o = new Command('wal-consumer')
    .description('CPU per change of the WAL consumer and the WAL sender, reading a backlog (see the file header)')
    .option('--changes <n>', 'single-row transactions in the backlog', (v) => Number(v), 20_000)
    .option('--rounds <n>', 'backlogs read, one after another', (v) => Number(v), 3)
    .option('--rate <n>', 'read live: single-row transactions per second', (v) => Number(v))
    .option('--seconds <n>', 'with --rate: seconds per round', (v) => Number(v), 5)
    .parse()
    .opts<{ changes: number; rounds: number; rate?: number; seconds: number }>();
  if (o.rate !== undefined && !(o.rate > 0 && o.seconds > 0)) throw new Error('--rate, --seconds: expected positive numbers');
  if (!Number.isInteger(o.changes) || o.changes < 1) throw new Error('--changes: expected a positive integer');
  if (!Number.isInteger(o.rounds) || o.rounds < 1) throw new Error('--rounds: expected a positive integer');
  const postgres = await new PostgresService({ provider: 'embedded' }).start();
  try {
    const url = postgres.connectionUri;
    const db = new pg.Client({ connectionString: url });
    db.on('error', () => {});
    await db.connect();
    await db.query('CREATE SCHEMA b');
    await db.query(`CREATE TABLE b.rows (id bigint PRIMARY KEY, room text NOT NULL, payload text NOT NULL, created_at timestamptz NOT NULL DEFAULT clock_timestamp()) WITH (autovacuum_enabled = false)`);
    console.log(`$ npx tsx connector/bench/wal-consumer.ts ${o.rate ? `--rate ${o.rate} --seconds ${o.seconds}` : `--changes ${o.changes}`} --rounds ${o.rounds}`);
    if (o.rate) {
      await live(url, db, o.rate, o.seconds, o.rounds);
      return;
    }
    let id = 0;
    const payload = 'x'.repeat(100);
    for (let round = 1; round <= o.rounds; round++) {
      // The first reader creates the publication and the slot; each round's backlog is written unread.
      if (round === 1) await (await connectorReader(url, 'b')).stop();
      for (let i = 0; i < o.changes; i++) await db.query('INSERT INTO b.rows (id, room, payload) VALUES ($1, $2, $3)', [++id, `r${id % 4}`, payload]);
      const reader = await connectorReader(url, 'b');
      const sender = await walSender(db, reader.slot);
      const s0 = cpuMs(sender);
      const t0 = performance.now();
      await caughtUp(db, reader.slot);
      const elapsed = performance.now() - t0;
      const senderMs = cpuMs(sender) - s0;
      const consumerMs = (await reader.stop()) ?? NaN;
      const us = (ms: number): string => `${((ms / o.changes) * 1000).toFixed(1)} µs`;
      console.log(`round ${round}: ${o.changes} changes read in ${elapsed.toFixed(0)} ms (${((o.changes / elapsed) * 1000).toFixed(0)}/s); consumer ${us(consumerMs)}, WAL sender ${us(senderMs)} per change`);
    }
    await db.end();
  } finally {
    await postgres.stop();
  }
}

async function live(url: string, db: pg.Client, rate: number, seconds: number, rounds: number): Promise<void> {
  const writers = await Promise.all(Array.from({ length: 4 }, async () => {
    const c = new pg.Client({ connectionString: url });
    c.on('error', () => {});
    await c.connect();
    return c;
  }));
  const reader = await connectorReader(url, 'b');
  const sender = await walSender(db, reader.slot);
  let id = 0;
  const payload = 'x'.repeat(100);
  try {
    for (let round = 1; round <= rounds; round++) {
      await caughtUp(db, reader.slot);
      const [s0, c0] = [cpuMs(sender), cpuMs(reader.pid)];
      const t0 = performance.now();
      const total = Math.round(rate * seconds);
      await Promise.all(writers.map(async (c, w) => {
        for (let k = w; k < total; k += writers.length) {
          const wait = t0 + (k * 1000) / rate - performance.now();
          if (wait > 1) await new Promise((r) => setTimeout(r, wait));
          await c.query('INSERT INTO b.rows (id, room, payload) VALUES ($1, $2, $3)', [++id, `r${id % 4}`, payload]);
        }
      }));
      const elapsed = performance.now() - t0;
      await caughtUp(db, reader.slot);
      const [senderMs, consumerMs] = [cpuMs(sender) - s0, cpuMs(reader.pid) - c0];
      const us = (ms: number): string => `${((ms / total) * 1000).toFixed(1)} µs`;
      console.log(`round ${round}: ${total} changes in ${elapsed.toFixed(0)} ms (${((total / elapsed) * 1000).toFixed(0)}/s); consumer ${us(consumerMs)}, WAL sender ${us(senderMs)} per change`);
    }
  } finally {
    await reader.stop();
    await Promise.all(writers.map((c) => c.end()));
  }
}

await main().catch((err: unknown) => {
  console.error(`wal-consumer: ${(err as Error).stack ?? String(err)}`);
  process.exitCode = 1;
});
