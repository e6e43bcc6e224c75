/**
 * Postgres connections for the connector: keepalive on, a client-side query timeout (a silently
 * dropped connection otherwise hangs forever), and a hard close that does not wait on a dead peer.
 */
import pg from 'pg';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import type { ConnectorConfig } from './config.ts';

export function newClient(cfg: ConnectorConfig, role: string): pg.Client {
  return new pg.Client({
    ...cfg.db,
    application_name: `ably-connector ${role}`,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    query_timeout: cfg.timing.queryTimeoutMs,
    connectionTimeoutMillis: cfg.timing.queryTimeoutMs,
  });
}

/** Ends a client; if the peer does not answer, destroys the socket rather than wait for TCP. */
export async function closeClient(c: pg.Client | undefined, waitMs = 1000): Promise<void> {
  if (!c) return;
  c.removeAllListeners('notification');
  c.on('error', () => {}); // late socket errors after we gave up on it
  const ended = c.end().catch(() => {});
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    ended.then(() => false),
    new Promise<boolean>((r) => (timer = setTimeout(() => r(true), waitMs))),
  ]);
  clearTimeout(timer);
  if (timedOut) {
    // pg keeps its socket on an undocumented field; destroying it is the only way not to wait.
    (c as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
  }
}

/** Exponential backoff with full jitter, so several connectors do not reconnect in lockstep. */
export function backoffMs(attempt: number, min: number, max: number, random: () => number = Math.random): number {
  const cap = Math.min(max, min * 2 ** Math.min(attempt, 20));
  return Math.round(min + random() * (cap - min));
}

/**
 * Uniform floats in [0, 1) from the configured seed, or Math.random without one. The connector
 * ships on its own, so it uses pure-rand directly rather than the harness's generator.
 */
export function jitterSource(seed: number | undefined): () => number {
  if (seed === undefined) return Math.random;
  const gen = xoroshiro128plus(seed | 0);
  return () => uniformFloat64(gen);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
