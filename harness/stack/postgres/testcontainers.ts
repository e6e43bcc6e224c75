/**
 * testcontainers provider: a postgres container, used when asked or when `auto` finds an engine.
 * The library is optional and imported lazily, so a machine without Docker (or where the
 * library fails to load) pays nothing and sees no noise.
 */
import { registerCleanup } from '../../lib/cleanup.ts';
import type { StartedPostgres } from './types.ts';

export async function dockerAvailable(timeoutMs = 1500): Promise<boolean> {
  const probe = (async () => {
    try {
      const tc: Testcontainers = await import('testcontainers');
      await tc.getContainerRuntimeClient();
      return true;
    } catch {
      return false;
    }
  })();
  const timeout = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), timeoutMs).unref());
  return Promise.race([probe, timeout]);
}

type Testcontainers = typeof import('testcontainers');

export async function startContainerPostgres(image = 'postgres:17-alpine'): Promise<StartedPostgres> {
  const t0 = performance.now();
  if (!(await dockerAvailable())) {
    throw new Error('--pg testcontainers needs a Docker engine, and none answered; use --pg embedded');
  }
  const tc: Testcontainers = await import('testcontainers');
  const password = 'harness';
  const container = await new tc.GenericContainer(image)
    .withEnvironment({ POSTGRES_PASSWORD: password })
    .withExposedPorts(5432)
    .withCommand(['postgres', '-c', 'wal_level=logical', '-c', 'max_connections=300'])
    .withWaitStrategy(tc.Wait.forLogMessage('database system is ready to accept connections', 2))
    .start();
  const host = container.getHost();
  const port = container.getMappedPort(5432);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    unregister();
    await container.stop();
  };
  const unregister = registerCleanup({ name: 'postgres container', stop });
  return {
    provider: 'testcontainers',
    connectionUri: `postgresql://postgres:${password}@${host}:${port}/postgres`,
    host,
    port,
    database: 'postgres',
    startupMs: performance.now() - t0,
    stop,
  };
}
