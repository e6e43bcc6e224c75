/**
 * One place that knows how to tear down everything the process started.
 *
 * Async stops run on SIGINT/SIGTERM and on uncaught failures; a synchronous fallback
 * (kill by pid, remove directories) runs in the 'exit' handler, because by then the event
 * loop is gone and only sync work happens. Together they leave no stray server behind.
 */
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

export interface Cleanup {
  name: string;
  stop: () => Promise<void>;
  /** Last-resort synchronous teardown, used when the process exits before `stop` ran. */
  stopSync?: () => void;
}

const cleanups = new Set<Cleanup>();
let installed = false;
let exiting = false;

export function registerCleanup(c: Cleanup): () => void {
  install();
  cleanups.add(c);
  return () => {
    cleanups.delete(c);
  };
}

/** Runs every registered stop, newest first (reverse of start order). */
export async function runCleanups(): Promise<void> {
  const all = [...cleanups].reverse();
  cleanups.clear();
  for (const c of all) {
    try {
      await c.stop();
    } catch (err) {
      process.stderr.write(`cleanup of ${c.name} failed: ${String(err)}\n`);
      try {
        c.stopSync?.();
      } catch {
        /* already reported */
      }
    }
  }
}

export function killSync(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(pid, signal);
  } catch {
    /* already gone */
  }
}

/** Sends SIGTERM and resolves once the child has exited (at once if it already has). */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

export function removeDirSync(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch {
    /* best effort at exit */
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', () => {
    for (const c of [...cleanups].reverse()) {
      try {
        c.stopSync?.();
      } catch {
        /* nothing more can be done at exit */
      }
    }
  });
}

/**
 * Turns SIGINT/SIGTERM/SIGHUP into an orderly teardown and the conventional exit code.
 * Only command-line entry points call this; hosts such as test runners own their signals.
 */
export function installSignalHandlers(): void {
  install();
  const onSignal = (code: number) => {
    if (exiting) return;
    exiting = true;
    void runCleanups().finally(() => process.exit(code));
  };
  process.once('SIGINT', () => onSignal(130));
  process.once('SIGTERM', () => onSignal(143));
  process.once('SIGHUP', () => onSignal(129));
}
