/**
 * The model-based property against the reference stack (started once for this file): fast-check
 * composes posts, edits, deletes, someone else's edits, capability probes, late joins (with a
 * history page racing a live edit), leaves, dropped sockets, connector crashes and restarts,
 * delivery pauses and quiet waits; every checker and the model must agree with what happened.
 * PROPERTY_RUNS sets the run count (default fits CI); `npm run property -- --runs N` runs longer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase } from '../../harness/testing/pg.ts';
import { DEFAULT_RUNS, runChatProperty } from './chat/property.ts';
import { startPropertyStack, type PropertyStack } from './chat/stack.ts';

const RUNS = Number(process.env.PROPERTY_RUNS ?? DEFAULT_RUNS);

let ps: PropertyStack;

beforeAll(async () => {
  ps = await startPropertyStack({ databaseUrl: await freshDatabase() });
});
afterAll(async () => {
  await ps?.stop();
});

describe('chat model on the reference stack (property)', () => {
  it(`every checker and the model hold for ${RUNS} generated command sequences`, async () => {
    const outcome = await runChatProperty(ps.ctx, { runs: RUNS, shrinkBudgetMs: 60_000, progress: (l) => process.env.PROPERTY_VERBOSE && process.stderr.write(`${l}\n`) });
    // The whole report on stderr too: a failure must leave its seed, path and commands in any CI log.
    if (outcome.failed) process.stderr.write(`\n${outcome.report}\n`);
    expect(outcome.failed, outcome.report).toBe(false);
    expect(outcome.executed).toBe(RUNS);
  }, 300_000);
});
