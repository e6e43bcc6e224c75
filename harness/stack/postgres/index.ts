import { PG_PROVIDERS, type PgProviderName, type StartedPostgres } from './types.ts';
import { startEmbeddedPostgres, type EmbeddedPostgresOptions } from './embedded.ts';
import { startExternalPostgres } from './external.ts';
import { dockerAvailable, startContainerPostgres } from './testcontainers.ts';

export type { StartedPostgres, PgProviderName, ShutdownMode } from './types.ts';
export { PG_PROVIDERS } from './types.ts';

export interface PostgresOptions {
  /** Default: `external` when a database URL is given, otherwise `embedded`. */
  provider?: PgProviderName;
  databaseUrl?: string;
  /** External databases: pin this schema instead of a fresh `run_*` one. */
  schema?: string;
  /** External databases: keep the run's schema on stop. */
  keep?: boolean;
  onProgress?: (msg: string) => void;
  embedded?: EmbeddedPostgresOptions;
}

export function parseProvider(value: string): PgProviderName {
  if ((PG_PROVIDERS as readonly string[]).includes(value)) return value as PgProviderName;
  throw new Error(`--pg '${value}' is not a Postgres provider; expected one of: ${PG_PROVIDERS.join(', ')}`);
}

/** Builder in the testcontainers shape: `await new PostgresService(opts).start()`. */
export class PostgresService {
  constructor(private readonly opts: PostgresOptions = {}) {}

  async start(): Promise<StartedPostgres> {
    const url = this.opts.databaseUrl;
    let provider = this.opts.provider ?? (url ? 'external' : 'embedded');
    if (provider === 'auto') provider = url ? 'external' : (await dockerAvailable()) ? 'testcontainers' : 'embedded';
    switch (provider) {
      case 'external':
        if (!url) throw new Error('--pg external needs DATABASE_URL or --database-url');
        return startExternalPostgres({
          url,
          ...(this.opts.schema ? { schema: this.opts.schema } : {}),
          ...(this.opts.keep ? { keep: true } : {}),
          ...(this.opts.onProgress ? { onProgress: this.opts.onProgress } : {}),
        });
      case 'testcontainers':
        return startContainerPostgres();
      case 'embedded':
        return startEmbeddedPostgres(this.opts.embedded);
    }
  }
}
