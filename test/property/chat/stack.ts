/**
 * Starts the stack a property run needs: the reference stack, or one with a mutant planted
 * (server-side defects through the stack's switches; the client-side one in the views), plus the
 * history gate in front of its history function. One per test file or CLI run.
 */
import { stackDefectsFor, type MutantName } from '../../../harness/runner/mutants.ts';
import { startStack } from '../../../harness/stack/index.ts';
import type { PgProviderName } from '../../../harness/stack/postgres/index.ts';
import { HistoryGate } from './history-gate.ts';
import type { StackContext } from './world.ts';

export interface PropertyStack {
  ctx: StackContext;
  stop(): Promise<void>;
}

export async function startPropertyStack(
  opts: { databaseUrl?: string; pg?: PgProviderName; mutant?: MutantName; onProgress?: (msg: string) => void } = {},
): Promise<PropertyStack> {
  const planted = opts.mutant ? stackDefectsFor([opts.mutant]) : { defects: {} };
  const stack = await startStack({
    ...(opts.databaseUrl ? { databaseUrl: opts.databaseUrl } : {}),
    ...(opts.pg ? { pg: opts.pg } : {}),
    defects: planted.defects,
    ...(planted.connectorMode ? { connectorMode: planted.connectorMode } : {}),
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
  });
  let gate: HistoryGate;
  try {
    gate = await HistoryGate.start(stack.endpoints.historyUrl);
  } catch (err) {
    await stack.stop();
    throw err;
  }
  return {
    ctx: { stack, gate, ignoreVersions: opts.mutant === 'view-no-version-check' },
    stop: async () => {
      await gate.stop();
      await stack.stop();
    },
  };
}
