/** The hooks the connector's end-to-end test files share; call once at the top of a file. */
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { StartedRealtime } from '../../harness/realtime/index.ts';
import { Connector, parseConnectorConfig, type StartedConnector } from '../src/index.ts';
import { Subscriber, realtimeEnv, startRealtime } from './realtime.ts';

export interface RealtimeSuite {
  /** The file's realtime service (started before its first test). */
  rt(): StartedRealtime;
  /** Runs `fn` after the current test, in reverse order of registration. */
  cleanup(fn: () => Promise<unknown> | void): void;
  /** A connector in this process for a raw config (the file's format), stopped after the test. */
  connector(raw: unknown): Promise<StartedConnector>;
  /** A subscriber on these channels, closed after the test. */
  subscriber(...channels: string[]): Promise<Subscriber>;
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
  const started = (): StartedRealtime => {
    if (!rt) throw new Error('realtime service not started yet (use it inside a test or hook)');
    return rt;
  };
  return {
    rt: started,
    cleanup: (fn) => void cleanups.push(fn),
    async connector(raw) {
      const c = await new Connector(parseConnectorConfig(raw, realtimeEnv(started()))).start();
      cleanups.push(() => c.stop());
      return c;
    },
    async subscriber(...channels) {
      const s = new Subscriber(started());
      cleanups.push(() => s.close());
      await s.subscribe(...channels);
      return s;
    },
  };
}
