export type PgProviderName = 'embedded' | 'external' | 'testcontainers' | 'auto';
export const PG_PROVIDERS: readonly PgProviderName[] = ['embedded', 'external', 'testcontainers', 'auto'];

export type ShutdownMode = 'smart' | 'fast' | 'immediate';

/** A started Postgres, in the testcontainers shape: endpoints plus stop(). */
export interface StartedPostgres {
  provider: Exclude<PgProviderName, 'auto'>;
  /** Connection URI for `pg` and `psql`; includes the schema search_path when one is used. */
  connectionUri: string;
  host: string;
  port: number;
  database: string;
  /** Schema the harness works in (external databases); undefined means `public`. */
  schema?: string;
  /** The schema survives stop (`--keep`); its name is `schema`. */
  kept?: boolean;
  /** Milliseconds from start() to accepting connections. */
  startupMs: number;
  /** Restart the server process, keeping data and port (faults). Not every provider can. */
  restart?: (mode?: ShutdownMode) => Promise<void>;
  /** Stop without restarting (faults); `start` brings it back on the same port. */
  kill?: (mode?: ShutdownMode) => Promise<void>;
  resume?: () => Promise<void>;
  /** Postmaster pid where the harness owns the process (metrics, faults). */
  pid?: () => number | undefined;
  stop: () => Promise<void>;
}
