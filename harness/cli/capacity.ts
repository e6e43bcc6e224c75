import { existsSync } from 'node:fs';
import { Command, Option } from 'commander';
import { z } from 'zod';
import { scenarios, findScenario } from '../../scenarios/index.ts';
import { capacitySummary, runCapacity, writeCapacityReport, type Target } from '../capacity/index.ts';
import { mergeThresholds, parseThresholds } from '../checks/thresholds.ts';
import { parseDuration } from '../lib/duration.ts';
import { DEFAULT_RULES, ORDERED_RULES } from '../stack/index.ts';
import { PG_PROVIDERS, parseProvider } from '../stack/postgres/index.ts';
import { UsageError, numberFlag as num, runMain } from './common.ts';

/**
 * p99 end to end under 100 ms, nothing lost. Not 50 ms: the default integration rules model the
 * 0-40 ms wait of Lambda's async queue, which alone leaves no room under 50 ms on a busy machine
 * (with --rules ordered, --slo e2e_latency=p(99)<50 is the tighter choice).
 */
export const DEFAULT_SLO = { e2e_latency: ['p(99)<100'], lost: ['count==0'] };
export const CAPACITY_DEFAULTS = { scenario: 'steady', start: 25, step: 25, max: 400, stepDuration: '6s', refine: 2, seed: 1 } as const;

const collect = (v: string, prev: string[] = []) => [...prev, v];

const program = new Command('npm run capacity --')
  .description(
    'Capacity sweep: run a scenario on the embedded stack at increasing arrival rates (one stack, fresh rooms per step) until the SLO breaks, ' +
      'operations fail or the generator saturates; bisect to the knee (the highest rate that held the SLO), name the part that saturated first, ' +
      'and project monthly realtime messages, Lambda invocations, database writes and NOTIFY rate.',
  )
  .argument('[scenario]', `scenario to sweep (default ${CAPACITY_DEFAULTS.scenario})`)
  .option('--start <ops/s>', `first offered rate (default ${CAPACITY_DEFAULTS.start})`)
  .option('--step <ops/s>', `rate increment between steps (default ${CAPACITY_DEFAULTS.step})`)
  .option('--max <ops/s>', `highest rate tried (default ${CAPACITY_DEFAULTS.max})`)
  .option('--step-duration <d>', `load duration of each step, e.g. 10s (default ${CAPACITY_DEFAULTS.stepDuration})`)
  .option('--refine <n>', `bisection steps between the last pass and the first failure (default ${CAPACITY_DEFAULTS.refine})`)
  .option('--users <list>', "publishing users per room; a comma-separated list sweeps one series per value (default: the scenario's)")
  .option('--rooms <n>', "rooms (default: the scenario's)")
  .option('--readers <n>', "reader-only users per room (default: the scenario's)")
  .option('--slo <metric=expr>', 'SLO threshold (repeatable; replaces the default per metric), default e2e_latency=p(99)<100 and lost=count==0', collect)
  .option('--target <rate,rooms,readers[,writers]>', 'also project a deployment: ops/s per room, rooms, readers per room (and writers per room) (repeatable)', collect)
  .option('--rules <mode|file>', 'integration rules: ably-lambda (default: as Ably + AWS Lambda behave, with their 0-40 ms queue delay), ordered (the ideal), or a rules file')
  .option('--reader-client <sdk|light>', 'client of reader-only users: light (default, a minimal protocol subscriber, cheap for the generator; sdk for scenarios that schedule their own faults) or sdk; publishing users are always SDK clients')
  .option('--workers <n>', 'worker threads running the virtual users (default: cores - 1, at least 1)')
  .option('--connector-mode <mode>', 'how the connector captures changes: durable (default), notify or wal (logical replication)')
  .option('--seed <n>', `workload seed (default ${CAPACITY_DEFAULTS.seed}); step i uses seed + i`)
  .option('--out <dir>', 'output directory (default reports/capacity/<timestamp>)')
  .addOption(new Option('--pg <provider>', `Postgres provider (${PG_PROVIDERS.join(', ')})`).default('embedded'))
  .option('--database-url <url>', 'use an existing database (also DATABASE_URL)')
  .addHelpText(
    'after',
    '\nExit codes: 0 a knee was found (or the SLO held up to --max); 1 the first rate already broke the SLO, or the sweep failed; 2 bad usage.\n' +
      'Examples:\n  npm run capacity\n  npm run capacity -- edit-storm --start 20 --step 20 --max 200\n' +
      '  npm run capacity -- --rules ordered --slo "e2e_latency=p(99)<50"\n' +
      '  npm run capacity -- --users 2,8 --target 2,500,50',
  )
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));

const rate = (flag: string) => num(flag, z.number().gt(0).max(100_000).describe('a positive number of operations per second (at most 100000)'));

const Flags = z.object({
  start: rate('--start'),
  step: rate('--step'),
  max: rate('--max'),
  stepDuration: z.string().optional(),
  refine: num('--refine', z.number().int().min(0).max(8).describe('an integer from 0 to 8')),
  users: z.string().optional(),
  rooms: num('--rooms', z.number().int().min(1).max(1000).describe('an integer from 1 to 1000')),
  readers: num('--readers', z.number().int().min(0).max(1000).describe('an integer from 0 to 1000')),
  slo: z.array(z.string()).default([]),
  target: z.array(z.string()).default([]),
  seed: num('--seed', z.number().int().min(0).max(2 ** 31).describe('a non-negative integer')),
  out: z.string().optional(),
  rules: z.string().optional(),
  readerClient: z.enum(['sdk', 'light'], { error: () => '--reader-client: expected sdk or light' }).optional(),
  workers: num('--workers', z.number().int().min(0).max(64).describe('an integer from 0 to 64')),
  connectorMode: z.enum(['durable', 'notify', 'wal'], { error: () => '--connector-mode: expected durable, notify or wal' }).optional(),
  pg: z.string(),
  databaseUrl: z.string().optional(),
});

/** "2,1000,50" or "2,1000,50,4": ops/s per room, rooms, readers per room, writers per room. */
export function parseTarget(v: string): Target {
  const parts = v.split(',').map((s) => s.trim());
  const nums = parts.map(Number);
  const ok =
    (parts.length === 3 || parts.length === 4) &&
    parts.every((p) => p !== '') &&
    nums[0]! > 0 && Number.isFinite(nums[0]) &&
    nums.slice(1).every((n) => Number.isInteger(n) && n >= 0) &&
    nums[1]! >= 1;
  if (!ok) throw new UsageError(`--target '${v}' is not RATE,ROOMS,READERS[,WRITERS]; expected e.g. 2,1000,50 (2 ops/s per room, 1000 rooms, 50 readers per room)`);
  return { ratePerRoom: nums[0]!, rooms: nums[1]!, readersPerRoom: nums[2]!, ...(parts.length === 4 ? { writersPerRoom: nums[3]! } : {}) };
}

export function parseUsers(v: string): number[] {
  const list = v.split(',').map((s) => s.trim());
  const nums = list.map(Number);
  if (list.some((s) => s === '') || nums.some((n) => !Number.isInteger(n) || n < 1 || n > 200)) {
    throw new UsageError(`--users '${v}' is not a comma-separated list of integers from 1 to 200, e.g. 2 or 2,8`);
  }
  return [...new Set(nums)];
}

runMain(async () => {
  program.parse();
  const parsed = Flags.safeParse(program.opts());
  if (!parsed.success) throw new UsageError(parsed.error.issues[0]!.message);
  const f = parsed.data;
  if (program.args.length > 1) throw new UsageError(`unexpected argument '${program.args[1]}'; one scenario at a time`);
  const name = program.args[0] ?? CAPACITY_DEFAULTS.scenario;
  const scenario = findScenario(name);
  if (!scenario) throw new UsageError(`unknown scenario '${name}'; expected one of ${scenarios.map((s) => s.name).join(', ')}`);
  const start = f.start ?? CAPACITY_DEFAULTS.start;
  const step = f.step ?? CAPACITY_DEFAULTS.step;
  const max = f.max ?? Math.max(CAPACITY_DEFAULTS.max, start);
  if (max < start) throw new UsageError(`--max ${max} is below --start ${start}; expected a maximum at least the first rate`);
  let stepDurationMs: number;
  let slo;
  let pg;
  try {
    stepDurationMs = parseDuration(f.stepDuration ?? CAPACITY_DEFAULTS.stepDuration, '--step-duration');
    slo = mergeThresholds(DEFAULT_SLO, f.slo);
    parseThresholds(slo);
    pg = parseProvider(f.pg);
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/^--duration/, '--step-duration'));
  }
  if (stepDurationMs < 1000 || stepDurationMs > 600_000) throw new UsageError(`--step-duration '${f.stepDuration}' is not between 1s and 10m`);
  const usersPerRoom = f.users === undefined ? undefined : parseUsers(f.users);
  const targets = f.target.map(parseTarget);
  const rules = f.rules ?? 'ably-lambda';
  const rulesFile = rules === 'ably-lambda' ? DEFAULT_RULES : rules === 'ordered' ? ORDERED_RULES : rules;
  if (!existsSync(rulesFile)) throw new UsageError(`--rules '${rules}': expected ably-lambda, ordered or an existing rules file`);
  const databaseUrl = f.databaseUrl ?? process.env.DATABASE_URL;
  const outDir = f.out ?? `reports/capacity/${new Date().toISOString().replace(/[:.]/g, '-')}`;
  const say = (s: string) => process.stdout.write(`${s}\n`);

  const stepsPerSeries = Math.floor((max - start) / step) + 1;
  say(
    `capacity: ${name}, rates ${start}..${max} step ${step} ops/s (up to ${stepsPerSeries} steps + ${f.refine ?? CAPACITY_DEFAULTS.refine} bisections per series), ` +
      `${(stepDurationMs / 1000).toFixed(1)} s per step; SLO ${Object.entries(slo).map(([m, e]) => `${m} ${e.map((x) => (typeof x === 'string' ? x : x.threshold)).join(' ')}`).join(', ')}`,
  );
  const r = await runCapacity({
    scenario,
    startRate: start,
    stepRate: step,
    maxRate: max,
    stepDurationMs,
    slo,
    ...(usersPerRoom ? { usersPerRoom } : {}),
    ...(f.rooms !== undefined ? { rooms: f.rooms } : {}),
    ...(f.readers !== undefined ? { readers: f.readers } : {}),
    refine: f.refine ?? CAPACITY_DEFAULTS.refine,
    ...(f.readerClient ? { readerClient: f.readerClient } : {}),
    ...(f.workers !== undefined ? { workers: f.workers } : {}),
    seed: f.seed ?? CAPACITY_DEFAULTS.seed,
    outDir,
    targets,
    rules,
    stackOpts: { ...(databaseUrl ? { pg: 'external' as const, databaseUrl } : { pg }), rulesFile, ...(f.connectorMode ? { connectorMode: f.connectorMode } : {}) },
    print: say,
  });
  const files = await writeCapacityReport(r);
  say('');
  say(capacitySummary(r));
  say('');
  say(`report ${files.html}  ${files.markdown}  ${files.json}`);
  return r.exitCode;
});
