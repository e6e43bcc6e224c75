import { Command, Option } from 'commander';
import { startStack } from '../stack/index.ts';
import { PG_PROVIDERS, parseProvider, type PgProviderName } from '../stack/postgres/index.ts';
import { UsageError, runMain, untilInterrupted } from './common.ts';

const program = new Command('npm run stack --')
  .description('Start the stack (Postgres with the chat schema, and the services that exist) and keep it up until Ctrl-C.')
  .option('--json', 'print the endpoints and credentials as one JSON line, first thing on stdout')
  .addOption(new Option('--pg <provider>', `Postgres provider (${PG_PROVIDERS.join(', ')})`).default('embedded'))
  .option('--database-url <url>', 'use an existing database (also DATABASE_URL); implies --pg external')
  .option('--rules <file>', 'integration rules file (default: harness/realtime/rules/chat-rules.json, Ably + Lambda delivery)')
  .option('--postgres-only', 'start Postgres with the chat schema and nothing else')
  .exitOverride((err) => {
    if (err.exitCode === 0) process.exit(0);
    process.exit(2);
  });

runMain(async () => {
  program.parse();
  const o = program.opts<{ json?: boolean; pg: string; databaseUrl?: string; rules?: string; postgresOnly?: boolean }>();
  let pg: PgProviderName;
  try {
    pg = parseProvider(o.pg);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const databaseUrl = o.databaseUrl ?? process.env.DATABASE_URL;
  if (databaseUrl && program.getOptionValueSource('pg') === 'default') pg = 'external';
  const log = (m: string) => process.stderr.write(`[stack] ${m}\n`);
  const stack = await startStack({
    pg,
    ...(databaseUrl ? { databaseUrl } : {}),
    ...(o.rules ? { rulesFile: o.rules } : {}),
    ...(o.postgresOnly ? { postgresOnly: true } : {}),
    onProgress: log,
  });
  if (o.json) {
    process.stdout.write(JSON.stringify(stack.endpoints) + '\n');
  } else {
    log('ready:');
    for (const [k, v] of Object.entries(stack.endpoints)) log(`  ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
    log('Ctrl-C to stop');
  }
  await untilInterrupted();
});
