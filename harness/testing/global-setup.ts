/**
 * One real Postgres for the whole test run (not one per test). Test files get their own
 * database on it through `freshDatabase()`, so they can run in parallel without sharing rows.
 */
import type { TestProject } from 'vitest/node';
import { PostgresService, type StartedPostgres } from '../stack/postgres/index.ts';

let pg: StartedPostgres | undefined;

export async function setup(project: TestProject): Promise<void> {
  const url = process.env.TEST_DATABASE_URL;
  pg = await new PostgresService(url ? { databaseUrl: url } : { provider: 'embedded' }).start();
  project.provide('pgAdminUrl', pg.connectionUri);
}

export async function teardown(): Promise<void> {
  await pg?.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
  }
}
