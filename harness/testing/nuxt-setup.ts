/**
 * The web app's tsconfig points into .nuxt/, which `nuxt prepare` generates (it is not in git);
 * vitest reads that tsconfig to transform every file under reference-app/web, so every tier that
 * holds a test there needs it first.
 * Spawned, not imported: importing the web app's modules would itself need that tsconfig.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const WEB_DIR = join(ROOT, 'reference-app', 'web');

export function setup(): void {
  if (existsSync(join(WEB_DIR, '.nuxt', 'tsconfig.app.json'))) return;
  const r = spawnSync(join(ROOT, 'node_modules', '.bin', 'nuxt'), ['prepare'], { cwd: WEB_DIR, encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`nuxt prepare failed in ${WEB_DIR}: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`);
}
