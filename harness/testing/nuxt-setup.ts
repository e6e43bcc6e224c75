/**
 * The web app's tsconfig points into .nuxt/, which `nuxt prepare` generates (it is not in git);
 * vitest reads that tsconfig to transform every file under reference-app/web, so every tier that
 * holds a test there needs it first.
 * Spawned, not imported: importing the web app's modules would itself need that tsconfig.
 * (vitest runs the projects' global setups one after another, so two never prepare at once.)
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { killSync } from '../lib/cleanup.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const WEB_DIR = join(ROOT, 'reference-app', 'web');
const TSCONFIG = join(WEB_DIR, '.nuxt', 'tsconfig.app.json');
/** What `nuxt prepare` prints once every file is written. */
const DONE = /Types generated/;
/** How long it may take to exit after saying so. */
const EXIT_GRACE_MS = 10_000;
/** It takes seconds; a fresh-clone CI run once saw it stop midway (one declaration never written) and never exit. */
const TIMEOUT_MS = 60_000;
const ATTEMPTS = 2;

export async function setup(): Promise<void> {
  if (existsSync(TSCONFIG)) return;
  for (let attempt = 1; ; attempt++) {
    const failure = await prepare();
    if (!failure) return;
    if (attempt === ATTEMPTS) throw new Error(failure);
    process.stderr.write(`${failure}; trying again\n`);
  }
}

/** One `nuxt prepare`; what went wrong, or undefined when the types are there. */
async function prepare(): Promise<string | undefined> {
  // Its own process group, so stopping it stops whatever it started too.
  const child = spawn(join(ROOT, 'node_modules', '.bin', 'nuxt'), ['prepare'], { cwd: WEB_DIR, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  const outcome = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; why?: string }>((resolve) => {
    const timers: NodeJS.Timeout[] = [];
    const end = (why?: string) => {
      for (const t of timers) clearTimeout(t);
      // The child leads its own group: the negative pid stops the group.
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) killSync(-child.pid, 'SIGKILL');
      resolve({ code: child.exitCode, signal: child.signalCode, ...(why ? { why } : {}) });
    };
    const take = (chunk: Buffer) => {
      const before = DONE.test(output);
      output += chunk.toString('utf8');
      if (!before && DONE.test(output)) timers.push(setTimeout(() => end('done, but still running'), EXIT_GRACE_MS));
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.once('error', (err) => end(err.message));
    child.once('close', () => end());
    timers.push(setTimeout(() => end(`timed out after ${TIMEOUT_MS} ms`), TIMEOUT_MS));
  });
  const said = output.trim().split('\n').slice(-3).join(' | ');
  // Done and written is what the tests need, whether or not the process exited by itself.
  if (DONE.test(output) && existsSync(TSCONFIG) && (outcome.code === 0 || outcome.why === 'done, but still running')) {
    if (outcome.why) process.stderr.write(`nuxt prepare: types generated, but the process did not exit within ${EXIT_GRACE_MS} ms; it was stopped\n`);
    return undefined;
  }
  const how = outcome.why ?? (outcome.signal ? `killed by ${outcome.signal}` : `exit code ${outcome.code}`);
  return `nuxt prepare failed in ${WEB_DIR} (${how}): ${said}`;
}
