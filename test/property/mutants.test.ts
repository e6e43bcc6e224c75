/**
 * Each planted defect of harness/runner/mutants.ts must make the chat model property fail within
 * the default run count, on a stack started with that defect alone, and shrink to a case short
 * enough to read. A defect is also expected to be named by one of the checkers that should catch
 * it, in some failing run of the search (the shrunk case may end up failing another way too).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MUTANTS, PROPERTY_MUTANT_NAMES, type MutantName } from '../../harness/runner/mutants.ts';
import { freshDatabase } from '../../harness/testing/pg.ts';
import { DEFAULT_RUNS, runChatProperty } from './chat/property.ts';
import { startPropertyStack, type PropertyStack } from './chat/stack.ts';

/** Shrinking takes about 10 s alone; the whole suite on 2 cores can triple that (7 commands left after 25 s once). */
const SHRINK_BUDGET_MS = 60_000;
const MAX_COMMANDS_SHRUNK = 6;

let ps: PropertyStack | undefined;
afterEach(async () => {
  await ps?.stop();
  ps = undefined;
});

describe('planted defects are found by the chat model property', () => {
  it.each(PROPERTY_MUTANT_NAMES)('%s', async (mutant: MutantName) => {
    ps = await startPropertyStack({ databaseUrl: await freshDatabase(), mutant });
    const outcome = await runChatProperty(ps.ctx, { runs: DEFAULT_RUNS, shrinkBudgetMs: SHRINK_BUDGET_MS, mutant });
    if (process.env.PROPERTY_VERBOSE) process.stderr.write(`${outcome.report}\n`);
    expect(outcome.failed, `${mutant} survived ${outcome.numRuns} runs`).toBe(true);
    expect(outcome.commands, outcome.report).toBeLessThanOrEqual(MAX_COMMANDS_SHRUNK);
    const expected: readonly string[] = MUTANTS[mutant].caughtBy;
    expect(Object.keys(outcome.failuresSeen).some((n) => expected.includes(n)), `${expected.join(' or ')} never failed: ${JSON.stringify(outcome.failuresSeen)}\n${outcome.report}`).toBe(true);
    expect(outcome.report).toContain(`--seed ${outcome.seed} --path ${outcome.path}`);
  }, 180_000);
});
