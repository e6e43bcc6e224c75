/**
 * The stack: every service of the architecture, started in dependency order and stopped in
 * reverse. Parts are added here as they exist; each is a builder with start() -> handle.
 */
import { migrate } from '../../reference-app/db/migrate.ts';
import { PostgresService, type PgProviderName, type StartedPostgres } from './postgres/index.ts';

export interface StackOptions {
  pg?: PgProviderName;
  databaseUrl?: string;
  onProgress?: (msg: string) => void;
}

export interface StackEndpoints {
  databaseUrl: string;
}

export interface StartedStack {
  postgres: StartedPostgres;
  endpoints: StackEndpoints;
  stop: () => Promise<void>;
}

export async function startStack(opts: StackOptions = {}): Promise<StartedStack> {
  const progress = opts.onProgress ?? (() => {});
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const s of stops.reverse()) await s().catch(() => {});
    stops.length = 0;
  };
  try {
    const postgres = await new PostgresService({
      ...(opts.pg ? { provider: opts.pg } : {}),
      ...(opts.databaseUrl ? { databaseUrl: opts.databaseUrl } : {}),
    }).start();
    stops.push(postgres.stop);
    progress(`postgres (${postgres.provider}) ready in ${postgres.startupMs.toFixed(0)} ms`);
    const applied = await migrate(postgres.connectionUri);
    if (applied.length) progress(`migrations applied: ${applied.join(', ')}`);
    return {
      postgres,
      endpoints: { databaseUrl: postgres.connectionUri },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
