import { Command, Option } from 'commander';
import { startPostgresOnly, startStack } from '../stack/index.ts';
import { PG_PROVIDERS, parseProvider, type PgProviderName } from '../stack/postgres/index.ts';
import { SCHEMA_RE } from '../stack/postgres/run-schema.ts';
import { UsageError, runMain, untilInterrupted } from './common.ts';

const program = new Command('npm run stack --')
  .description('Start the stack (Postgres with the chat schema, and the services that exist) and keep it up until Ctrl-C.')
  .option('--json', 'print the endpoints and credentials as one JSON line, first thing on stdout')
  .addOption(new Option('--pg <provider>', `Postgres provider (${PG_PROVIDERS.join(', ')})`).default('embedded'))
  .option('--database-url <url>', 'use an existing database (also DATABASE_URL); implies --pg external; the stack works in a schema of its own, run_<time>_<random>, dropped on exit')
  .option('--keep', 'with an existing database: keep the stack\'s schema on exit (its name is printed)')
  .option('--schema <name>', 'with an existing database: work in this schema (created if missing, never dropped); refused while another run uses it')
  .option('--rules <file>', 'integration rules file (default: harness/realtime/rules/chat-rules.json, Ably + Lambda delivery)')
  .option('--postgres-only', 'start Postgres with the chat schema and nothing else')
  .exitOverride((err) => {
    if (err.exitCode === 0) process.exit(0);
    process.exit(2);
  });

runMain(async () => {
  program.parse();
  const o = program.opts<{ json?: boolean; pg: string; databaseUrl?: string; rules?: string; postgresOnly?: boolean; keep?: boolean; schema?: string }>();
  let pg: PgProviderName;
  try {
    pg = parseProvider(o.pg);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const databaseUrl = o.databaseUrl ?? process.env.DATABASE_URL;
  if (databaseUrl && program.getOptionValueSource('pg') === 'default') pg = 'external';
  if ((o.keep || o.schema) && pg !== 'external') throw new UsageError(`${o.keep ? '--keep' : '--schema'} needs an existing database (--database-url or DATABASE_URL); the embedded one is removed on exit`);
  if (o.schema !== undefined && !SCHEMA_RE.test(o.schema)) throw new UsageError(`--schema '${o.schema}' is not a plain lower-case identifier (a-z, 0-9, _; at most 63)`);
  const log = (m: string) => process.stderr.write(`[stack] ${m}\n`);
  const foundation = {
    pg,
    ...(databaseUrl ? { databaseUrl } : {}),
    ...(o.schema ? { schema: o.schema } : {}),
    ...(o.keep ? { keep: true } : {}),
    onProgress: log,
  };
  const stack = o.postgresOnly ? await startPostgresOnly(foundation) : await startStack({ ...foundation, ...(o.rules ? { rulesFile: o.rules } : {}) });
  if (stack.postgres.schema) log(`schema ${stack.postgres.schema}${stack.postgres.kept ? ' (kept on exit: --keep)' : o.schema ? ' (pinned: kept on exit)' : ' (dropped on exit)'}`);
  if (o.json) {
    process.stdout.write(JSON.stringify(stack.endpoints) + '\n');
  } else {
    log('ready:');
    for (const [k, v] of Object.entries(stack.endpoints)) log(`  ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
    log('Ctrl-C to stop');
  }
  await untilInterrupted();
});
