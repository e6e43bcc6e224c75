/**
 * One real Postgres for a test tier's whole run (not one per test). Test files get their own
 * database on it through `freshDatabase()`, or a run schema of their own through `startStack`, so
 * they can run in parallel without sharing rows. Only the tiers that need Postgres load this.
 */
import type { TestProject } from 'vitest/node';
import { PostgresService, type StartedPostgres } from '../stack/postgres/index.ts';

let pg: StartedPostgres | undefined;

export async function setup(project: TestProject): Promise<void> {
  // A given server is used as is: tests create their own databases and run schemas on it, and a
  // schema set in this URL would not exist in the databases freshDatabase() creates.
  const url = process.env.TEST_DATABASE_URL;
  if (url) {
    project.provide('pgAdminUrl', url);
    return;
  }
  pg = await new PostgresService({ provider: 'embedded' }).start();
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
