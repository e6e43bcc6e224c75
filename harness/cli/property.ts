/**
 * `npm run property`: the chat model property (test/property/chat) on a stack of its own, for
 * longer searches than CI runs and to replay a failure exactly as it was printed:
 *   npm run property -- --seed S --path P [--replay-path R] [--mutant NAME]
 * `--known-bugs` runs the properties of reported bugs instead (no stack needed).
 */
import { Command, Option } from 'commander';
import { z } from 'zod';
import { MUTANT_NAMES } from '../runner/mutants.ts';
import { PG_PROVIDERS } from '../stack/postgres/index.ts';
import { KNOWN_BUGS } from '../../test/property/known-bugs/index.ts';
import { DEFAULT_RUNS, runChatProperty } from '../../test/property/chat/property.ts';
import { startPropertyStack } from '../../test/property/chat/stack.ts';
import { UsageError, runMain } from './common.ts';

const program = new Command('npm run property --')
  .description('Run the chat model property against a stack started for it: generated command sequences, checked by every checker and the model.')
  .option('--runs <n>', `command sequences to generate (default ${DEFAULT_RUNS}, what CI runs)`)
  .option('--seed <n>', 'seed of the search (a failure prints it)')
  .option('--path <p>', 'counterexample path to replay, with --seed: runs only that case')
  .option('--replay-path <r>', "fast-check's replay path of the command list (a failure prints it), with --seed and --path")
  .addOption(new Option('--mutant <name>', 'plant a defect in the stack (the property should then fail)').choices(MUTANT_NAMES))
  .option('--max-commands <n>', 'longest command sequence (default 12)')
  .option('--shrink-budget <seconds>', 'time spent shrinking after the first failure (default 120)')
  .option('--known-bugs', 'run the properties of reported, unfixed bugs and print their counterexamples (exit 1 while any fails)')
  .addOption(new Option('--pg <provider>', 'Postgres provider').choices([...PG_PROVIDERS]).default('embedded'))
  .option('--database-url <url>', 'use an existing database (also DATABASE_URL)')
  .option('--verbose', 'print a line per run')
  .addHelpText('after', '\nExit codes: 0 the property held; 1 it failed (the report names seed, path and the shrunk commands); 2 bad usage.')
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));

const int = (flag: string, min: number, max: number) =>
  z.coerce.number({ error: `${flag}: expected a number` }).int(`${flag}: expected an integer`).min(min, `${flag}: expected at least ${min}`).max(max, `${flag}: expected at most ${max}`);

const optionsSchema = z.object({
  runs: int('--runs', 1, 100_000).default(DEFAULT_RUNS),
  seed: int('--seed', -0x80000000, 0xffffffff).optional(),
  path: z.string().regex(/^\d+(:\d+)*$/, '--path: expected numbers joined by ":" as printed, e.g. 3:1:0').optional(),
  replayPath: z.string().regex(/^[A-Za-z0-9+/=:]+$/, '--replay-path: expected the replay path as printed, e.g. BAD:F').optional(),
  mutant: z.enum(MUTANT_NAMES as [string, ...string[]]).optional(),
  maxCommands: int('--max-commands', 1, 100).default(12),
  shrinkBudget: z.coerce.number({ error: '--shrink-budget: expected seconds' }).min(0, '--shrink-budget: expected 0 or more seconds').default(120),
  knownBugs: z.boolean().default(false),
  pg: z.enum(PG_PROVIDERS),
  databaseUrl: z.string().url('--database-url: expected a postgres:// URL').optional(),
  verbose: z.boolean().default(false),
});

function parseOptions(raw: unknown): z.infer<typeof optionsSchema> {
  const r = optionsSchema.safeParse(raw);
  if (!r.success) throw new UsageError(r.error.issues[0]!.message);
  const o = r.data;
  if (o.path && o.seed === undefined) throw new UsageError('--path needs --seed: a path only means something within the search of its seed');
  if (o.replayPath && !o.path) throw new UsageError('--replay-path needs --seed and --path');
  return o;
}

function runKnownBugs(seed: number | undefined): number {
  let failing = 0;
  for (const bug of KNOWN_BUGS) {
    const r = bug.check(seed);
    process.stdout.write(`\n${bug.id} (${bug.where})\n  ${bug.summary}\n`);
    if (!r.failed) {
      process.stdout.write(`  PASSES now (${r.numRuns} runs, seed ${r.seed}): fixed? move it into the default run.\n`);
      continue;
    }
    failing++;
    process.stdout.write(`  still fails: seed ${r.seed}, path ${r.path}; shrunk counterexample:\n${(r.counterexample ?? '').replace(/^/gm, '    ')}\n`);
  }
  process.stdout.write(`\n${failing} of ${KNOWN_BUGS.length} known-bug properties still fail\n`);
  return failing ? 1 : 0;
}

runMain(async () => {
  program.parse();
  if (program.args.length) throw new UsageError(`unexpected argument '${program.args[0]}'; options start with --`);
  const o = parseOptions({ ...program.opts() });
  if (o.knownBugs) return runKnownBugs(o.seed);
  const databaseUrl = o.databaseUrl ?? process.env.DATABASE_URL;
  const mutant = o.mutant as (typeof MUTANT_NAMES)[number] | undefined;
  process.stdout.write(`starting the stack${mutant ? ` with the planted defect ${mutant}` : ''}...\n`);
  const ps = await startPropertyStack({ ...(databaseUrl ? { databaseUrl } : { pg: o.pg }), ...(mutant ? { mutant } : {}) });
  try {
    const replay = o.path !== undefined;
    process.stdout.write(replay ? `replaying seed ${o.seed}, path ${o.path}\n` : `searching: ${o.runs} runs, up to ${o.maxCommands} commands each\n`);
    const outcome = await runChatProperty(ps.ctx, {
      runs: o.runs,
      maxCommands: o.maxCommands,
      shrinkBudgetMs: o.shrinkBudget * 1000,
      replayOnly: replay,
      ...(o.seed !== undefined ? { seed: o.seed } : {}),
      ...(o.path ? { path: o.path } : {}),
      ...(o.replayPath ? { replayPath: o.replayPath } : {}),
      ...(mutant ? { mutant } : {}),
      progress: (line) => {
        if (o.verbose || line.includes('FAILED')) process.stdout.write(`  ${line}\n`);
      },
    });
    process.stdout.write(`\n${outcome.report}\n`);
    if (replay && !outcome.failed) process.stdout.write('the replayed case passed this time: the failure depends on timing; run it again, or search with the same seed\n');
    return outcome.failed ? 1 : 0;
  } finally {
    await ps.stop();
  }
});
