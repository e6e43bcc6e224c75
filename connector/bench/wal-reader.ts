/**
 * The postgres-cost bench's `wal` consumer: the connector's own WAL worker (setup, pgoutput
 * decoding, row rendering, publish planning, confirmation after the ack) in a process of its own,
 * as the connector runs when deployed, with a publisher that acknowledges at once. So the bench
 * counts what our consumer costs, on its own CPU, and the writers' event loop carries none of it.
 *
 * Forked by postgres-cost.ts with an IPC channel: `{url, schema, table}` in argv (JSON); it answers
 * `{ready, slot}` once streaming, and on `stop` stops the worker and answers with its CPU and the
 * changes it handled. It exits when the channel closes, so it never outlives the bench.
 */
import pg from 'pg';
import pino from 'pino';
import { z } from 'zod';
import { parseConnectorConfig } from '../src/config.ts';
import { ConnectorMetrics } from '../src/metrics.ts';
import { routeKey } from '../src/plan.ts';
import type { RealtimePublisher } from '../src/publisher.ts';
import { setupDatabase } from '../src/setup.ts';
import { WalWorker } from '../src/wal.ts';
import type { WorkerContext } from '../src/worker.ts';

const argsSchema = z.strictObject({ url: z.string().min(1), schema: z.string().regex(/^[a-z_][a-z0-9_]*$/), table: z.string().regex(/^[a-z_][a-z0-9_]*$/) });

export type ReaderReply = { ready: true; slot: string } | { stopped: true; cpuMs: number; changes: number } | { error: string };

function reply(m: ReaderReply): void {
  process.send?.(m);
}

async function main(): Promise<void> {
  const args = argsSchema.parse(JSON.parse(process.argv[2] ?? '{}'));
  // The bench's table lives in its variant's schema: setup reads current_schema().
  const main = new pg.Client({ connectionString: args.url, options: `-c search_path=${args.schema}` });
  main.on('error', () => {});
  await main.connect();
  const cfg = parseConnectorConfig(
    {
      connector: [{ tablename: args.table, ablychannelname: 'bench:{room}', operation: 'INSERT' }],
      extensions: { database: { url: args.url }, channelTemplates: true, mode: 'wal' },
    },
    { ABLY_API_KEY: 'bench.key:secret' },
  );
  const setup = await setupDatabase(main, cfg);
  const routes = new Map([[routeKey(setup.tables.get(args.table)!.relname, 'INSERT'), cfg.mappings]]);
  // Acknowledged at once: what the realtime service costs is not this bench's question.
  const publisher = { publish: () => Promise.resolve(), maxMessageSize: () => 65536 } as unknown as RealtimePublisher;
  const metrics = new ConnectorMetrics();
  const ctx: WorkerContext = { cfg, setup, routes, publisher, metrics, log: pino({ level: 'silent' }), random: Math.random };
  const worker = new WalWorker(ctx, main);
  const running = worker.run();
  running.catch((err: Error) => {
    reply({ error: err.message });
    process.exit(1);
  });
  // The measured window starts at `mark`: setup and catching up with the warm-up are not in it.
  let cpu0 = process.cpuUsage();
  let changes0 = 0;
  process.on('message', (m: unknown) => {
    if (m === 'mark') {
      cpu0 = process.cpuUsage();
      changes0 = metrics.counts.acknowledged;
    }
    if (m !== 'stop') return;
    worker.stop();
    void running.then(async () => {
      const cpu = process.cpuUsage(cpu0);
      reply({ stopped: true, cpuMs: (cpu.user + cpu.system) / 1000, changes: metrics.counts.acknowledged - changes0 });
      await main.end();
      process.exit(0);
    });
  });
  reply({ ready: true, slot: setup.wal!.slot });
}

process.on('disconnect', () => process.exit(0));
await main().catch((err: unknown) => {
  reply({ error: (err as Error).message });
  process.exit(1);
});
