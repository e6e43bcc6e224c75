import { Command, Option } from 'commander';
import { scenarios, findScenario } from '../../scenarios/index.ts';
import { MUTANT_NAMES, parseMutant, type MutantName } from '../runner/mutants.ts';
import { PG_PROVIDERS, parseProvider } from '../stack/postgres/index.ts';
import { UsageError, runMain } from './common.ts';
import { parseDuration } from '../lib/duration.ts';
import { mergeThresholds } from '../checks/thresholds.ts';
import { executeScenario, recheckRun } from '../runner/execute.ts';
import { runSelfCheck } from '../runner/self-check.ts';
import { randomSeed } from '../lib/rng.ts';
import { READER_CLIENTS, type ReaderClient } from '../workload/user.ts';
import { defaultWorkers } from '../workload/worker-pool.ts';
import { FAULTS, FAULT_NAMES, type FaultDef } from '../faults/catalogue.ts';
import { LINKS } from '../stack/links.ts';
import { checkFaultConnectorMode, parseFaultSpec } from '../faults/spec.ts';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { RULES_PRESET_NAMES, RULES_PRESETS, resolveRules, type RulesPreset, type RulesPresetName } from '../stack/rules-presets.ts';
import { FAULT_TARGETS } from '../stack/index.ts';
import { loadRun, writeComparison, type ComparedRun, type NotRun } from '../runner/compare.ts';
import { attackerCostLines, withoutAttackers } from '../runner/attackers.ts';
import { defaultOutDir } from '../runner/execute.ts';
import { loadTarget, targetFromEnv, type Target } from '../stack/target.ts';
import { SCHEMA_RE } from '../stack/postgres/run-schema.ts';

const collect = (v: string, prev: string[]) => [...prev, v];

const program = new Command('npm run scenario --')
  .description('Run a named scenario on the embedded stack, check its history, and write a report.')
  .argument('[name]', 'scenario to run (see --list), or self-check')
  .option('--list', 'list the scenarios with a one-line description')
  .option('--out <dir>', 'run directory (default reports/<scenario>/<timestamp>)')
  .option('--duration <d>', 'load duration, e.g. 30s, 2m, 1500ms')
  .option('--rate <n>', 'operations per second across all users')
  .option('--users <n>', 'publishing users per room')
  .option('--rooms <n>', 'rooms')
  .option('--readers <n>', 'reader-only users per room')
  .option('--seed <n>', 'seed for the workload (printed on every run)')
  .option('--workers <n>', `worker threads running the virtual users; 0 runs them in the main thread (default: cores - 1, at least 1; here ${defaultWorkers()})`)
  .option('--reader-client <sdk|light>', 'client of reader-only users: sdk (the real ably SDK, default) or light (a minimal protocol subscriber for large fan-out; no resume)')
  .option('--threshold <metric=expr>', 'override a threshold, e.g. "e2e_latency=p(99)<50" (repeatable)', collect, [])
  .option('--fault <NAME[=VALUE]@TIME[:DURATION]>', 'inject a fault during the load (repeatable), e.g. connector-kill@5s:1s; see --list-faults', collect, [])
  .option('--list-faults', 'list the faults the nemesis can inject, and the links they can target')
  .option('--mutant <name>', `plant a defect (repeatable; with self-check: only these): ${MUTANT_NAMES.join(', ')}`, collect, [])
  .option('--check <dir>', 're-run the checkers and thresholds on a saved run directory')
  .option('--target <file>', 'run against a deployment the harness does not start: a target file (the JSON `npm run stack -- --json` prints)')
  .option('--target-env', 'as --target, from DATABASE_URL, CHAT_FUNCTIONS_URL, ABLY_HOST, ABLY_PORT, ABLY_TLS')
  .option('--rules <mode|file>', 'integration rules: ably-lambda (default: as Ably + AWS Lambda behave), ordered (the ideal), ably-lambda-destination (plus an on-failure destination, replayed when quiet), queue (Ably -> queue -> Lambda event-source mapping), or a rules file')
  .option('--connector-mode <mode>', 'how the connector captures changes: durable (default: trigger + outbox), notify (trigger + NOTIFY, the original) or wal (logical replication)')
  .option('--compare-modes [list]', 'run the scenario once per integration mode with the same seed (default ably-lambda,ordered; e.g. ably-lambda,ably-lambda-destination,queue) and compare them side by side')
  .option('--no-attackers', 'abuse: run the honest load alone, without the attackers')
  .option('--compare-attackers', 'abuse: run with and without the attackers, same seed, and compare them (honest e2e p99 ratio, realtime memory growth)')
  .option('--compare-connector-modes [list]', `run the scenario once per connector capture mode with the same seed (default ${'notify,durable,wal'}) and compare writer cost, latency, order and loss side by side`)
  .option('--compare <dirs...>', 'compare saved run directories side by side (writes report.md and comparison.json)')
  .addOption(new Option('--pg <provider>', `Postgres provider (${PG_PROVIDERS.join(', ')})`).default('embedded'))
  .option('--database-url <url>', 'use an existing database (also DATABASE_URL); the run works in a schema of its own, run_<time>_<random>, dropped at the end')
  .option('--keep', 'with an existing database: keep the run\'s schema at the end (its name is printed)')
  .option('--schema <name>', 'with an existing database: work in this schema (created if missing, never dropped); refused while another run uses it')
  .addHelpText(
    'after',
    '\nExit codes: 0 all checks valid and thresholds hold; 99 only thresholds failed; 1 a check failed or was unknown; 2 bad usage.',
  )
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));

const MAX_WORKERS = 64;
function workerCount(v: string): number {
  const n = positiveInt('--workers', v)!;
  if (n > MAX_WORKERS) throw new UsageError(`--workers '${v}': at most ${MAX_WORKERS} (each is a thread with its own V8 heap)`);
  return n;
}

function parseReaderClient(v: string): ReaderClient {
  if (!(READER_CLIENTS as readonly string[]).includes(v)) throw new UsageError(`--reader-client '${v}': expected one of ${READER_CLIENTS.join(', ')}`);
  return v as ReaderClient;
}

const CONNECTOR_MODES = ['durable', 'notify', 'wal'] as const;

function parseConnectorMode(v: string | undefined): (typeof CONNECTOR_MODES)[number] | undefined {
  if (v === undefined) return undefined;
  const mode = CONNECTOR_MODES.find((m) => m === v);
  if (!mode) throw new UsageError(`--connector-mode '${v}': expected ${CONNECTOR_MODES.join(', ')}`);
  return mode;
}

function positiveInt(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${flag} '${v}' is not a non-negative integer`);
  return n;
}

runMain(async () => {
  program.parse();
  const o = program.opts<{
    list?: boolean; out?: string; duration?: string; rate?: string; users?: string; rooms?: string; readers?: string;
    seed?: string; threshold: string[]; mutant: string[]; check?: string; pg: string; databaseUrl?: string; keep?: boolean; schema?: string;
    fault: string[]; listFaults?: boolean; workers?: string; readerClient?: string; rules?: string; connectorMode?: string; compareModes?: boolean | string; compareConnectorModes?: boolean | string; compare?: string[]; target?: string; targetEnv?: boolean;
    attackers: boolean; compareAttackers?: boolean;
  }>();
  if (o.compare) {
    if (o.compare.length < 2) throw new UsageError('--compare needs at least two run directories');
    for (const d of o.compare) if (!existsSync(join(d, 'report.json'))) throw new UsageError(`--compare: ${d} has no report.json`);
    const runs = o.compare.map((d) => loadRun(d));
    const out = o.out ?? defaultOutDir('compare');
    process.stdout.write((await writeComparison(out, runs, 'runs')) + `\ncomparison written to ${out}/report.md\n`);
    return 0;
  }
  if (o.listFaults) {
    const w = Math.max(...FAULT_NAMES.map((n) => n.length));
    for (const n of FAULT_NAMES) {
      const d: FaultDef = FAULTS[n];
      process.stdout.write(`${n.padEnd(w)}  ${d.description}${d.value ? ` [VALUE: ${d.value.help}]` : ''}${d.needsDuration ? ' (needs :DURATION)' : ''}\n`);
    }
    process.stdout.write('\nlinks (for net-latency, net-jitter, net-cut):\n');
    for (const [k, v] of Object.entries(LINKS)) process.stdout.write(`  ${k.padEnd(20)} ${v}\n`);
    return 0;
  }
  const [name] = program.args;
  if (o.list) {
    const w = Math.max(...scenarios.map((s) => s.name.length), 'self-check'.length);
    for (const s of scenarios) process.stdout.write(`${s.name.padEnd(w)}  ${s.description}\n`);
    process.stdout.write(`${'self-check'.padEnd(w)}  runs every planted defect against the scenario that must catch it\n`);
    return 0;
  }
  let mutants: MutantName[];
  try {
    mergeThresholds({}, o.threshold);
    mutants = o.mutant.map(parseMutant);
    // A deployment the harness only reaches offers no fault targets: its faults are refused here.
    const offers = o.target || o.targetEnv ? [] : FAULT_TARGETS;
    for (const f of o.fault) parseFaultSpec(f, offers);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (o.check) return recheckRun(o.check, { thresholdFlags: o.threshold, print: (s) => process.stdout.write(s) });
  if (!name) throw new UsageError('name a scenario to run (npm run scenario -- --list shows them)');
  let pgProvider;
  try {
    pgProvider = parseProvider(o.pg);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const databaseUrl = o.databaseUrl ?? process.env.DATABASE_URL;
  const rate = o.rate === undefined ? undefined : Number(o.rate);
  if (rate !== undefined && !(rate > 0)) throw new UsageError(`--rate '${o.rate}' is not a positive number`);
  let durationMs: number | undefined;
  try {
    durationMs = o.duration === undefined ? undefined : parseDuration(o.duration);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const overrides = {
    ...(durationMs !== undefined ? { durationMs } : {}),
    ...(rate !== undefined ? { rate } : {}),
    ...(o.users !== undefined ? { users: positiveInt('--users', o.users)! } : {}),
    ...(o.rooms !== undefined ? { rooms: positiveInt('--rooms', o.rooms)! } : {}),
    ...(o.readers !== undefined ? { readers: positiveInt('--readers', o.readers)! } : {}),
    ...(o.workers !== undefined ? { workers: workerCount(o.workers) } : {}),
    ...(o.readerClient !== undefined ? { readerClient: parseReaderClient(o.readerClient) } : {}),
  };
  const seed = o.seed === undefined ? randomSeed() : positiveInt('--seed', o.seed)!;
  let preset: RulesPreset | undefined;
  if (o.rules !== undefined) {
    preset = resolveRules(o.rules);
    if (!preset) throw new UsageError(`--rules '${o.rules}': expected ${RULES_PRESET_NAMES.join(', ')} or an existing rules file`);
  }
  const modes = compareModeList(o.compareModes);
  if (o.compareModes && o.rules !== undefined) throw new UsageError('--compare-modes runs both modes itself; drop --rules');
  const captureModes = compareConnectorModeList(o.compareConnectorModes);
  if (o.compareConnectorModes && o.connectorMode !== undefined) throw new UsageError('--compare-connector-modes runs each mode itself; drop --connector-mode');
  if (o.compareConnectorModes && o.compareModes) throw new UsageError('compare one thing at a time: --compare-modes or --compare-connector-modes');
  let target: Target | undefined;
  try {
    if (o.target) target = loadTarget(o.target);
    else if (o.targetEnv) target = targetFromEnv(process.env);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (target && (mutants.length || o.compareModes || o.compareConnectorModes || o.rules)) {
    throw new UsageError('--target runs against a deployment the harness does not own: --mutant, --rules, --compare-modes and --compare-connector-modes need the embedded stack');
  }
  const connectorMode = parseConnectorMode(o.connectorMode);
  if (target && connectorMode) throw new UsageError('--connector-mode needs the embedded stack; drop --target');
  if ((o.keep || o.schema) && !databaseUrl) throw new UsageError(`${o.keep ? '--keep' : '--schema'} needs an existing database (--database-url or DATABASE_URL); the embedded one is removed with its run`);
  if (o.schema !== undefined && !SCHEMA_RE.test(o.schema)) throw new UsageError(`--schema '${o.schema}' is not a plain lower-case identifier (a-z, 0-9, _; at most 63)`);
  const stackOpts = {
    ...(databaseUrl ? { pg: 'external' as const, databaseUrl } : { pg: pgProvider }),
    ...(preset ? { rulesFile: preset.rulesFile } : {}),
    ...(preset?.eventInvokeConfig ? { eventInvokeConfig: preset.eventInvokeConfig } : {}),
    ...(o.schema ? { schema: o.schema } : {}),
    ...(o.keep ? { keep: true } : {}),
    ...(connectorMode ? { connectorMode } : {}),
  };
  if (name === 'self-check') {
    return runSelfCheck({ seed, stackOpts, findScenario, print: (s) => process.stdout.write(s), only: mutants, ...(durationMs !== undefined ? { durationMs } : {}) });
  }
  const scenario = findScenario(name);
  if (!scenario) throw new UsageError(`unknown scenario '${name}'; expected one of: ${scenarios.map((s) => s.name).join(', ')}, self-check`);
  if ((!o.attackers || o.compareAttackers) && !scenario.abuse) throw new UsageError(`${o.compareAttackers ? '--compare-attackers' : '--no-attackers'}: scenario '${scenario.name}' has no attackers (abuse has)`);
  if (o.compareAttackers && (o.compareModes || o.compareConnectorModes || !o.attackers)) throw new UsageError('--compare-attackers runs with and without attackers itself; drop --compare-modes, --compare-connector-modes and --no-attackers');
  const toRun = o.attackers ? scenario : withoutAttackers(scenario);
  if (!target) {
    const runModes = o.compareConnectorModes ? captureModes : [connectorMode ?? scenario.stack?.connectorMode ?? 'durable'];
    try {
      for (const f of o.fault) for (const m of runModes) checkFaultConnectorMode(parseFaultSpec(f), m);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  if (o.compareModes || o.compareConnectorModes || o.compareAttackers) {
    const axis = o.compareModes ? 'rules' : o.compareConnectorModes ? 'connector-mode' : 'attackers';
    const variants: Array<{ label: string; what: string; scenario: typeof scenario; opts: typeof stackOpts }> = o.compareModes
      ? modes.map((label) => ({ label, what: `the ${label} integration`, scenario: toRun, opts: { ...stackOpts, rulesFile: RULES_PRESETS[label].rulesFile, ...eventInvokeOf(RULES_PRESETS[label]) } }))
      : o.compareConnectorModes
        ? captureModes.map((label) => ({ label, what: `the connector in ${label} mode`, scenario: toRun, opts: { ...stackOpts, connectorMode: label } }))
        : [
            { label: 'attackers', what: 'its attackers', scenario, opts: stackOpts },
            { label: 'no-attackers', what: 'no attackers', scenario: withoutAttackers(scenario), opts: stackOpts },
          ];
    const base = o.out ?? defaultOutDir(`${scenario.name}-${axis === 'rules' ? 'modes' : axis === 'attackers' ? 'attackers' : 'connector-modes'}`);
    const runs: ComparedRun[] = [];
    let worst = 0;
    const notRun: NotRun[] = [];
    for (const v of variants) {
      process.stderr.write(`\n=== ${scenario.name} with ${v.what} ===\n`);
      const dir = join(base, v.label);
      try {
        const r = await executeScenario({ scenario: v.scenario, overrides, seed, thresholdFlags: o.threshold, mutants, faults: o.fault, outDir: dir, stackOpts: v.opts });
        runs.push({ label: v.label, dir, report: r.report });
        worst = worst === 1 || r.exitCode === 1 ? 1 : Math.max(worst, r.exitCode);
      } catch (err) {
        // One mode that could not run (its stack did not start) leaves the others worth comparing.
        const error = (err as Error).message.split('\n')[0]!;
        process.stderr.write(`error: ${v.label}: ${error}\n`);
        notRun.push({ label: v.label, error });
        worst = 1;
      }
    }
    if (runs.length === 0) throw new Error(`no mode ran: ${notRun.map((n) => `${n.label}: ${n.error}`).join('; ')}`);
    const cost = axis === 'attackers' && runs.length === 2 ? `${attackerCostLines(runs[0]!.report, runs[1]!.report).join('\n')}\n` : '';
    process.stdout.write(`\n${await writeComparison(base, runs, axis, notRun)}\n${cost}comparison written to ${base}/report.md (and into each run's report)\n`);
    return worst;
  }
  return (await executeScenario({ scenario: toRun, overrides, seed, thresholdFlags: o.threshold, mutants, faults: o.fault, ...(o.out ? { outDir: o.out } : {}), ...(target ? { target } : {}), stackOpts })).exitCode;
});

function eventInvokeOf(p: RulesPreset) {
  return p.eventInvokeConfig ? { eventInvokeConfig: p.eventInvokeConfig } : {};
}

function compareConnectorModeList(v: boolean | string | undefined): Array<(typeof CONNECTOR_MODES)[number]> {
  if (v === undefined || v === false || v === true) return ['notify', 'durable', 'wal'];
  const names = v.split(',').map((x) => x.trim()).filter(Boolean);
  const modes = names.map((n) => {
    const m = CONNECTOR_MODES.find((c) => c === n);
    if (!m) throw new UsageError(`--compare-connector-modes '${n}': expected a comma-separated list of ${CONNECTOR_MODES.join(', ')}`);
    return m;
  });
  if (modes.length < 2) throw new UsageError('--compare-connector-modes needs at least two modes to compare');
  return modes;
}

function compareModeList(v: boolean | string | undefined): RulesPresetName[] {
  if (v === undefined || v === false || v === true) return ['ably-lambda', 'ordered'];
  const names = v.split(',').map((x) => x.trim()).filter(Boolean);
  for (const n of names) if (!(RULES_PRESET_NAMES as string[]).includes(n)) throw new UsageError(`--compare-modes '${n}': expected a comma-separated list of ${RULES_PRESET_NAMES.join(', ')}`);
  if (names.length < 2) throw new UsageError('--compare-modes needs at least two modes to compare');
  return names as RulesPresetName[];
}
