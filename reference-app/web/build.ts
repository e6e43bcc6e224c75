/**
 * Builds the web app's static site (`nuxt generate` -> .output/public) when it is missing or
 * older than its sources, so the browser tests and `npm run chat` on a fresh clone need no
 * separate build step. `npx tsx reference-app/web/build.ts [--force]` builds from the shell. One build at a time
 * across test workers: a lock directory, since two `nuxt generate` runs clobber each other's
 * `.nuxt` folder.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const WEB_DIR = dirname(fileURLToPath(import.meta.url));
export const PUBLIC_DIR = join(WEB_DIR, '.output', 'public');
const REPO_DIR = resolve(WEB_DIR, '..', '..');
const LOCK_DIR = join(WEB_DIR, '.build-lock');
const BUILD_TIMEOUT_MS = 120_000;

function newestMtime(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return path.endsWith('.test.ts') ? 0 : st.mtimeMs;
  let newest = st.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/** Newest change among the files that end up in the site. */
function sourcesMtime(): number {
  // The app bundles the chat contract from outside its folder.
  const inputs = [join(WEB_DIR, 'app'), join(REPO_DIR, 'reference-app', 'contract'), join(WEB_DIR, 'nuxt.config.ts'), join(REPO_DIR, 'package-lock.json')];
  return Math.max(...inputs.filter((p) => existsSync(p)).map(newestMtime));
}

export function isBuildFresh(): boolean {
  const index = join(PUBLIC_DIR, 'index.html');
  return existsSync(index) && statSync(index).mtimeMs >= sourcesMtime();
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Runs `fn` while holding the web folder's build lock (a lock left by a dead process is taken over). */
export async function withBuildLock<T>(fn: () => Promise<T>, timeoutMs = BUILD_TIMEOUT_MS + 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(LOCK_DIR);
      writeFileSync(join(LOCK_DIR, 'pid'), String(process.pid));
      break;
    } catch {
      const holder = Number(readFileOr(join(LOCK_DIR, 'pid'), '0'));
      if (holder && !pidAlive(holder)) rmSync(LOCK_DIR, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new Error(`web build lock ${LOCK_DIR} still held by pid ${holder} after ${timeoutMs} ms`);
      // No event tells us another process released the lock: poll it.
      else await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(LOCK_DIR, { recursive: true, force: true });
  }
}

function readFileOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}

/** Runs a binary from the repo's node_modules in the web folder; rejects with its output's tail. */
export function runWebTool(bin: string, args: string[], timeoutMs = BUILD_TIMEOUT_MS): Promise<string> {
  return new Promise((ok, fail) => {
    const child = spawn(join(REPO_DIR, 'node_modules', '.bin', bin), args, {
      cwd: WEB_DIR,
      env: { ...process.env, NUXT_TELEMETRY_DISABLED: '1', CI: process.env.CI ?? '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const keep = (b: Buffer) => {
      out = (out + b.toString()).slice(-20_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      fail(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) ok(out);
      else fail(new Error(`${bin} ${args.join(' ')} failed (${signal ?? `exit ${code}`}):\n${out.slice(-4000)}`));
    });
  });
}

/** The static site's folder, built first when missing or stale. Returns how long the build took (0 when fresh). */
export async function ensureWebBuild(opts: { force?: boolean } = {}): Promise<{ dir: string; buildMs: number }> {
  if (!opts.force && isBuildFresh()) return { dir: PUBLIC_DIR, buildMs: 0 };
  return withBuildLock(async () => {
    if (!opts.force && isBuildFresh()) return { dir: PUBLIC_DIR, buildMs: 0 };
    const started = Date.now();
    await runWebTool('nuxt', ['generate']);
    if (!isBuildFresh()) throw new Error(`nuxt generate finished but ${PUBLIC_DIR}/index.html is missing or stale`);
    return { dir: PUBLIC_DIR, buildMs: Date.now() - started };
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const force = process.argv.includes('--force');
  ensureWebBuild({ force }).then(
    ({ dir, buildMs }) => console.log(buildMs ? `built ${dir} in ${(buildMs / 1000).toFixed(1)} s` : `${dir} is up to date`),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : String(err));
      process.exit(1);
    },
  );
}
