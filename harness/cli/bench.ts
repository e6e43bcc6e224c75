/**
 * `npm run bench -- floor`: the floor of the chat's path on this machine's (or the given)
 * Postgres, the figure every run's latencies are read against.
 */
import { Command, Option } from 'commander';
import { z } from 'zod';
import { PG_PROVIDERS, PostgresService, parseProvider } from '../stack/postgres/index.ts';
import { measureFloor } from '../stack/floor.ts';
import { UsageError, runMain } from './common.ts';

const flags = z.object({
  samples: z.coerce.number().int().min(10).max(100_000),
  gapMs: z.coerce.number().min(0).max(1_000),
  json: z.boolean().optional(),
  pg: z.string(),
  databaseUrl: z.string().optional(),
});

const program = new Command('npm run bench --')
  .description('Benchmarks of the stack itself.')
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));

program
  .command('floor')
  .description('INSERT -> trigger pg_notify -> LISTEN -> one WebSocket hop, one round trip at a time on an idle path')
  .option('--samples <n>', 'measured round trips', '1000')
  .option('--gap-ms <ms>', 'pause between round trips', '2')
  .option('--json', 'print the result as one JSON line')
  .addOption(new Option('--pg <provider>', `Postgres provider (${PG_PROVIDERS.join(', ')})`).default('embedded'))
  .option('--database-url <url>', 'use an existing database (also DATABASE_URL); only temporary tables are created')
  .action(async (raw: Record<string, unknown>) => {
    const parsed = flags.safeParse(raw);
    if (!parsed.success) {
      const i = parsed.error.issues[0]!;
      throw new UsageError(`--${String(i.path[0] ?? '').replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())}: ${i.message}`);
    }
    const o = parsed.data;
    const databaseUrl = o.databaseUrl ?? process.env.DATABASE_URL;
    let provider;
    try {
      provider = parseProvider(databaseUrl && o.pg === 'embedded' ? 'external' : o.pg);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const pgs = await new PostgresService({ provider, ...(databaseUrl ? { databaseUrl } : {}) }).start();
    try {
      const f = await measureFloor(pgs.connectionUri, { samples: o.samples, gapMs: o.gapMs, timeoutMs: 300_000 });
      const when = new Date().toISOString();
      if (o.json) process.stdout.write(JSON.stringify({ bench: 'floor', at: when, postgres: pgs.provider, ...f }) + '\n');
      else
        process.stdout.write(
          `floor (INSERT -> pg_notify -> LISTEN -> one WebSocket hop), ${f.samples} round trips on ${pgs.provider} Postgres, ${when}\n` +
            `  p50 ${f.p50Ms} ms  p90 ${f.p90Ms} ms  p99 ${f.p99Ms} ms  max ${f.maxMs} ms  min ${f.minMs} ms\n`,
        );
    } finally {
      await pgs.stop();
    }
  });

runMain(async () => {
  await program.parseAsync();
});
