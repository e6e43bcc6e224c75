/**
 * A last line of defence for a harness that dies without cleaning up (SIGKILL, OOM): a small
 * watcher process that holds a pipe from the harness. When the pipe closes and Postgres is still
 * running in `dataDir`, it shuts it down (immediate mode) and removes the directory. A clean stop
 * stops Postgres first, and the watcher then finds nothing to do. It reads the postmaster's pid
 * from `postmaster.pid` at that moment, so a Postgres restarted by a fault is covered too.
 */
import { spawn } from 'node:child_process';

const WATCHER = `
const fs = require('node:fs');
const dir = process.argv[1];
process.stdin.resume();
process.stdin.on('error', () => {});
process.stdin.on('close', () => {
  let pid = 0;
  try { pid = Number(fs.readFileSync(dir + '/postmaster.pid', 'utf8').split('\\n')[0]); } catch {}
  const isPostgres = (p) => { try { return fs.readFileSync('/proc/' + p + '/cmdline', 'utf8').includes('postgres'); } catch { return false; } };
  if (pid > 0 && isPostgres(pid)) { try { process.kill(pid, 'SIGQUIT'); } catch {} }
  const deadline = Date.now() + 10000;
  const done = () => { try { fs.rmSync(dir, { recursive: true, force: true }); } catch {} process.exit(0); };
  const poll = () => (pid > 0 && isPostgres(pid) && Date.now() < deadline ? setTimeout(poll, 50) : done());
  poll();
});
`;

/** Starts the watcher; returns a function that releases it (on a clean stop). */
export function startReaper(dataDir: string): () => void {
  const child = spawn(process.execPath, ['-e', WATCHER, dataDir], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
  // It must outlive the harness's process group (a Ctrl-C reaches the whole group).
  child.unref();
  child.on('error', () => {});
  return () => {
    child.stdin?.end();
  };
}
