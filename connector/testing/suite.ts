/** The hooks the connector's end-to-end test files share; call once at the top of a file. */
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { StartedRealtime } from '../../harness/realtime/index.ts';
import { startRealtime } from './realtime.ts';

export interface RealtimeSuite {
  /** The file's realtime service (started before its first test). */
  rt(): StartedRealtime;
  /** Runs `fn` after the current test, in reverse order of registration. */
  cleanup(fn: () => Promise<unknown> | void): void;
}

export function realtimeSuite(): RealtimeSuite {
  let rt: StartedRealtime | undefined;
  const cleanups: Array<() => Promise<unknown> | void> = [];
  beforeAll(async () => {
    rt = await startRealtime();
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  afterAll(async () => {
    await rt?.stop();
  });
  return {
    rt: () => {
      if (!rt) throw new Error('realtime service not started yet (use it inside a test or hook)');
      return rt;
    },
    cleanup: (fn) => void cleanups.push(fn),
  };
}
