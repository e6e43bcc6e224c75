/**
 * The model-based property against a running stack, and how a failure is told: fast-check
 * generates command sequences; each run joins fresh users in fresh rooms, runs the commands,
 * settles every fault, waits for quiet and judges the history with the checkers and the model.
 * A failure prints the seed, path and replay path, the shrunk command list as it ran, and the
 * failing checks; `npm run property -- --seed S --path P --replay-path R` replays it.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import type { CheckResult } from '../../../harness/history/types.ts';
import { chatCommand } from './commands.ts';
import { initialModel } from './model.ts';
import { World, type StackContext, type Verdict } from './world.ts';

/** The run count CI uses, for the reference stack and for each mutant alike. */
export const DEFAULT_RUNS = 30;

export interface ChatPropertyOptions {
  runs: number;
  seed?: number;
  path?: string;
  replayPath?: string;
  maxCommands?: number;
  /** Once a failure is found, stop trying smaller cases after this long (the smallest so far is reported). */
  shrinkBudgetMs?: number;
  /** Shown in the replay command line. */
  mutant?: string;
  /** With seed and path: run only that counterexample, no search and no further shrinking. */
  replayOnly?: boolean;
  progress?: (line: string) => void;
}

export interface ChatPropertyOutcome {
  failed: boolean;
  /** Runs executed against the stack (shrinking included). */
  executed: number;
  numRuns: number;
  numShrinks: number;
  seed: number;
  path?: string;
  replayPath?: string;
  /** Commands in the shrunk counterexample. */
  commands?: number;
  /** Names of what failed in the shrunk run: checkers, "model", or "error". */
  failing: string[];
  /** Over every failing run (shrinking included): how many times each check failed. */
  failuresSeen: Record<string, number>;
  report: string;
  durationMs: number;
}

/** The failure of one run, carrying what the report needs. */
export class ChatRunFailure extends Error {
  constructor(
    readonly transcript: string[],
    readonly failing: string[],
    readonly details: string[],
  ) {
    super(`${failing.join(', ')} failed\n${details.join('\n')}`);
  }
}

const SETUP_ROOMS = [0, 0, 1];
let runCounter = 0;
const fileNonce = randomBytes(2).toString('hex');

/** One run: fresh rooms and users, the commands, then the verdict; throws ChatRunFailure. */
async function runOnce(
  ctx: StackContext,
  cmds: Iterable<fc.AsyncCommand<ReturnType<typeof initialModel>, World>>,
): Promise<void> {
  const tag = `p${fileNonce}${(++runCounter).toString(36).padStart(3, '0')}`;
  const world = new World(ctx, tag);
  const names = SETUP_ROOMS.map((_, i) => world.userName(i));
  const model = initialModel(names, SETUP_ROOMS);
  // The first user of each room stays to the end; others may leave.
  model.users.forEach((u, i) => (u.setup = SETUP_ROOMS.indexOf(u.room) === i));
  world.transcript.push(`  setup: ${names.map((n, i) => `${world.short(n)} in r${SETUP_ROOMS[i]}`).join(', ')}`);
  let verdict: Verdict | undefined;
  try {
    await Promise.all(names.map((n, i) => world.join(n, SETUP_ROOMS[i]!)));
    await fc.asyncModelRun(() => ({ model, real: world }), cmds);
    verdict = await world.judge(model);
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    throw new ChatRunFailure(world.transcript, ['error'], [world.short(e.message)]);
  } finally {
    await world.dispose();
  }
  if (!verdict.ok) {
    const bad = verdict.checks.filter((c) => c.valid !== true);
    const failing = [...bad.map((c) => c.name), ...(verdict.modelMismatches.length ? ['model'] : [])];
    const details = [...bad.map((c) => describeCheck(c, world)), ...verdict.modelMismatches.map((m) => `  model: ${world.short(m)}`)];
    throw new ChatRunFailure(world.transcript, failing, details);
  }
}

function describeCheck(c: CheckResult, w: World): string {
  const json = JSON.stringify(c.details, (_k, v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? Math.round(v * 10) / 10 : v));
  const text = w.short(json);
  return `  ${c.name}: ${c.valid === false ? 'INVALID' : 'UNKNOWN'} ${text.length > 900 ? `${text.slice(0, 900)}...` : text}`;
}

export async function runChatProperty(ctx: StackContext, o: ChatPropertyOptions): Promise<ChatPropertyOutcome> {
  const started = performance.now();
  let executed = 0;
  const failuresSeen: Record<string, number> = {};
  let firstFailureAt: number | undefined;
  const say = o.progress ?? (() => {});
  const commands = fc.commands([chatCommand], { maxCommands: o.maxCommands ?? 10, ...(o.replayPath ? { replayPath: o.replayPath } : {}) });
  const property = fc.asyncProperty(commands, async (cmds) => {
    if (firstFailureAt !== undefined && performance.now() - firstFailureAt > (o.shrinkBudgetMs ?? Infinity)) return;
    executed++;
    const t0 = performance.now();
    try {
      await runOnce(ctx, cmds);
      say(`run ${executed}: ok (${[...cmds].length} commands, ${Math.round(performance.now() - t0)} ms)`);
    } catch (err) {
      firstFailureAt ??= performance.now();
      for (const name of err instanceof ChatRunFailure ? err.failing : ['error']) failuresSeen[name] = (failuresSeen[name] ?? 0) + 1;
      say(`run ${executed}: FAILED (${err instanceof ChatRunFailure ? err.failing.join(', ') : String(err)}; ${Math.round(performance.now() - t0)} ms)`);
      throw err;
    }
  });
  const seed = o.seed ?? (Date.now() ^ (Math.random() * 0x100000000)) | 0;
  const details = await fc.check(property, { numRuns: o.runs, seed, ...(o.path ? { path: o.path } : {}), endOnFailure: o.replayOnly ?? false });
  const durationMs = performance.now() - started;
  const base = { executed, numRuns: details.numRuns, numShrinks: details.numShrinks, seed, durationMs, failuresSeen };
  if (!details.failed) {
    const report = `chat model property: ${details.numRuns} runs passed in ${(durationMs / 1000).toFixed(1)} s (seed ${seed})`;
    return { ...base, failed: false, failing: [], report };
  }
  const shown = String(details.counterexample?.[0] ?? '');
  const replayPath = /replayPath="([^"]*)"/.exec(shown)?.[1];
  const err = details.errorInstance;
  const failure = err instanceof ChatRunFailure ? err : undefined;
  const listed = shown.replace(/\s*\/\*.*\*\/\s*$/, '');
  const commandsRan = listed ? listed.split(/,(?![^(]*\))/).length : 0;
  const replay = [
    'npm run property --',
    `--seed ${seed}`,
    `--path ${details.counterexamplePath}`,
    ...(replayPath ? [`--replay-path '${replayPath}'`] : []),
    ...(o.mutant ? [`--mutant ${o.mutant}`] : []),
  ].join(' ');
  const report = [
    `chat model property FAILED after ${details.numRuns} run(s), ${details.numShrinks} shrink(s), ${(durationMs / 1000).toFixed(1)} s`,
    `seed ${seed}, path ${details.counterexamplePath}${replayPath ? `, replay path ${replayPath}` : ''}`,
    `replay: ${replay}`,
    `shrunk command list (${commandsRan}): ${listed || '(none)'}; as it ran:`,
    ...(failure ? failure.transcript : ['  (no transcript)']),
    'what failed:',
    ...(failure ? failure.details : [`  ${String(err)}`]),
  ].join('\n');
  return {
    ...base,
    failed: true,
    path: details.counterexamplePath ?? undefined,
    ...(replayPath ? { replayPath } : {}),
    commands: commandsRan,
    failing: failure?.failing ?? ['error'],
    report,
  } as ChatPropertyOutcome;
}
