import { Command, Option } from 'commander';
import { z } from 'zod';
import { GATE_DEFAULTS, GateUsageError, runGate, verdictOf, writeGateOutputs, type GateResult } from '../gate/index.ts';
import { textTable } from '../lib/table.ts';
import { parseDuration } from '../lib/duration.ts';
import { PG_PROVIDERS, parseProvider } from '../stack/postgres/index.ts';
import { UsageError, numberFlag as num, runMain } from './common.ts';

export const DEFAULT_BASELINE = 'fixtures/baselines/default.json';

const program = new Command('npm run gate --')
  .description(
    'Regression gate: run scenarios repeatedly on the embedded stack and compare their latency and throughput with a committed baseline.\n' +
      'Fails on any checker failure, any threshold breach, or a metric whose median moved the worse way beyond the tolerance with the required confidence.',
  )
  .option('--baseline <file>', 'baseline file', DEFAULT_BASELINE)
  .option('--scenarios <list>', `comma-separated scenarios (default: the baseline's, else ${GATE_DEFAULTS.scenarios.join(',')})`)
  .option('--repeat <n>', `runs per scenario (default: the baseline's, else ${GATE_DEFAULTS.repeat})`)
  .option('--tolerance <x>', `allowed relative change of a median, e.g. 0.2 = 20% (default: the baseline's, else ${GATE_DEFAULTS.tolerance})`)
  .option('--confidence <x>', `required one-sided confidence of a regression, 0..1 (default: the baseline's, else ${GATE_DEFAULTS.confidence})`)
  .option('--min-change-ms <ms>', `latency changes below this never regress (default: the baseline's, else ${GATE_DEFAULTS.minChangeMs})`)
  .option('--duration <d>', "load duration of each run, e.g. 5s (default: the baseline's)")
  .option('--seed <n>', `first seed when making a baseline (default ${GATE_DEFAULTS.seed}); comparisons replay the baseline's seeds`)
  .option('--update-baseline', 'run and write the figures as the new baseline instead of comparing')
  .option('--note <text>', 'with --update-baseline: a note kept in the baseline (where and how it was made)')
  .option('--junit <file>', 'also write the JUnit XML here (it is always in the gate directory)')
  .option('--out <dir>', 'gate directory (default reports/gate/<timestamp>)')
  .option('--plant-lambda-delay <ms>', 'FOR PROVING THE GATE ONLY: delay every chat-writer invocation by this many ms (a planted slowdown the gate must catch)')
  .addOption(new Option('--pg <provider>', `Postgres provider (${PG_PROVIDERS.join(', ')})`).default('embedded'))
  .option('--database-url <url>', 'use an existing database (also DATABASE_URL)')
  .addHelpText(
    'after',
    '\nExit codes: 0 passed; 1 a check failed or a metric regressed; 99 only thresholds failed; 2 bad usage.\n' +
      'Examples:\n  npm run gate\n  npm run gate -- --baseline fixtures/baselines/ci.json --repeat 2\n  npm run gate -- --scenarios steady --update-baseline',
  )
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));

const Flags = z.object({
  baseline: z.string().min(1),
  scenarios: z
    .string()
    .optional()
    .transform((v) => (v === undefined ? undefined : v.split(',').map((s) => s.trim()).filter(Boolean))),
  repeat: num('--repeat', z.number().int().min(1).max(20).describe('an integer from 1 to 20')),
  tolerance: num('--tolerance', z.number().gt(0).max(100).describe('a positive fraction such as 0.2')),
  confidence: num('--confidence', z.number().gt(0).lt(1).describe('a number between 0 and 1, e.g. 0.9')),
  minChangeMs: num('--min-change-ms', z.number().min(0).describe('a non-negative number of ms')),
  seed: num('--seed', z.number().int().min(0).describe('a non-negative integer')),
  plantLambdaDelay: num('--plant-lambda-delay', z.number().int().min(0).max(60_000).describe('an integer number of ms from 0 to 60000')),
  duration: z.string().optional(),
  updateBaseline: z.boolean().optional(),
  note: z.string().optional(),
  junit: z.string().optional(),
  out: z.string().optional(),
  pg: z.string(),
  databaseUrl: z.string().optional(),
});

function summary(g: GateResult): string {
  const rows = g.scenarios.flatMap((s) =>
    s.comparisons.length
      ? s.comparisons.map((c) => [
          s.scenario,
          c.label,
          Number.isFinite(c.baselineMedian) ? c.baselineMedian.toFixed(2) : '-',
          Number.isFinite(c.currentMedian) ? c.currentMedian.toFixed(2) : '-',
          Number.isFinite(c.worseBy) ? `${c.worseBy >= 0 ? '+' : ''}${(c.worseBy * 100).toFixed(1)}%` : '-',
          `${(c.confidence * 100).toFixed(1)}%`,
          c.verdict === 'regressed' ? 'REGRESSED' : c.verdict,
        ])
      : s.runs.map((r, i) => [s.scenario, `run ${i + 1}`, '', '', '', '', r.exitCode === 0 ? 'ok' : 'FAILED']),
  );
  return textTable(['scenario', 'metric', 'baseline', 'current', 'worse by', 'confidence', 'result'], rows, ['left', 'left', 'right', 'right', 'right', 'right', 'left']);
}

runMain(async () => {
  program.parse();
  const parsed = Flags.safeParse(program.opts());
  if (!parsed.success) throw new UsageError(parsed.error.issues[0]!.message);
  const f = parsed.data;
  if (program.args.length) throw new UsageError(`unexpected argument '${program.args[0]}' (scenarios go in --scenarios)`);
  let durationMs: number | undefined;
  let pg;
  try {
    durationMs = f.duration === undefined ? undefined : parseDuration(f.duration);
    pg = parseProvider(f.pg);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (f.note !== undefined && !f.updateBaseline) throw new UsageError('--note goes with --update-baseline (it is written into the new baseline)');
  if (f.scenarios?.length === 0) throw new UsageError('--scenarios is empty; expected e.g. steady,edit-storm');
  const databaseUrl = f.databaseUrl ?? process.env.DATABASE_URL;
  const outDir = f.out ?? `reports/gate/${new Date().toISOString().replace(/[:.]/g, '-')}`;
  const say = (s: string) => process.stdout.write(`${s}\n`);
  let g: GateResult;
  try {
    g = await runGate({
      baselinePath: f.baseline,
      ...(f.scenarios ? { scenarios: f.scenarios } : {}),
      ...(f.repeat !== undefined ? { repeat: f.repeat } : {}),
      ...(f.tolerance !== undefined ? { tolerance: f.tolerance } : {}),
      ...(f.confidence !== undefined ? { confidence: f.confidence } : {}),
      ...(f.minChangeMs !== undefined ? { minChangeMs: f.minChangeMs } : {}),
      ...(f.seed !== undefined ? { seed: f.seed } : {}),
      ...(f.plantLambdaDelay !== undefined ? { plantLambdaDelayMs: f.plantLambdaDelay } : {}),
      ...(durationMs !== undefined ? { durationMs } : {}),
      updateBaseline: f.updateBaseline ?? false,
      ...(f.note !== undefined ? { note: f.note } : {}),
      outDir,
      stackOpts: databaseUrl ? { pg: 'external', databaseUrl } : { pg },
      print: say,
    });
  } catch (e) {
    if (e instanceof GateUsageError) throw new UsageError(e.message);
    throw e;
  }
  const files = await writeGateOutputs(g, f.junit ? { junitPath: f.junit } : {});
  say('');
  for (const w of g.warnings) say(`warning: ${w}`);
  say(summary(g));
  say('');
  say(verdictOf(g));
  say(`report ${files.markdown}  junit ${files.extraJunit ?? files.junit}`);
  return g.exitCode;
});
