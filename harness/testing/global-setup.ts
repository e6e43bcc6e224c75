/**
 * One real Postgres for the whole test run (not one per test). Test files get their own
 * database on it through `freshDatabase()`, so they can run in parallel without sharing rows.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { PostgresService, type StartedPostgres } from '../stack/postgres/index.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const WEB_DIR = join(ROOT, 'reference-app', 'web');

let pg: StartedPostgres | undefined;

export async function setup(project: TestProject): Promise<void> {
  // The web app's tsconfig points into .nuxt/, which `nuxt prepare` generates (it is not in git);
  // vitest reads that tsconfig to transform every file under reference-app/web.
  // Spawned, not imported: importing the web app's modules would itself need that tsconfig.
  if (!existsSync(join(WEB_DIR, '.nuxt', 'tsconfig.app.json'))) {
    const r = spawnSync(join(ROOT, 'node_modules', '.bin', 'nuxt'), ['prepare'], { cwd: WEB_DIR, encoding: 'utf8', timeout: 120_000 });
    if (r.status !== 0) throw new Error(`nuxt prepare failed in ${WEB_DIR}: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`);
  }
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
