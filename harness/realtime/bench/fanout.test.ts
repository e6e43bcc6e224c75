/**
 * The fan-out benchmark is documented as a command users run; this checks that it still runs end
 * to end (service child process, worker-thread SDK subscribers, every phase) and rejects bad flags.
 * It asserts completeness, not speed: figures come from the benchmark itself.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';

const BENCH = join(import.meta.dirname, 'fanout.ts');
type Bench = ChildProcessByStdio<null, Readable, Readable>;
const started: Bench[] = [];

afterAll(() => {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
});

function start(args: string[]): Bench {
  const child = spawn(process.execPath, ['--import', 'tsx', BENCH, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  return child;
}

/** A process is gone once it has no /proc entry, or only a zombie's. */
function alive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]![0] !== 'Z';
  } catch {
    return false;
  }
}

async function bench(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = start(args);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

describe('fan-out benchmark', () => {
  it('runs every phase and delivers every message to every subscriber', async () => {
    const r = await bench(['--subscribers', '4', '--workers', '2', '--seconds', '1', '--window', '8', '--rate', '50']);
    // Progress on stderr, one line per step; nothing else there.
    expect(r.stderr.split('\n').filter((l) => l && !l.startsWith('fanout: '))).toEqual([]);
    expect(r.stderr).toContain('fanout: fixed rate (50 msg/s): 1 s');
    expect(r.stdout).toContain('command: npx tsx harness/realtime/bench/fanout.ts --subscribers 4');
    expect(r.stdout).toMatch(/idle machine: a thread sleeping 5 ms wakes late by p50 [\d.]+ ms/);
    const rows = r.stdout.split('\n').filter((l) => /^(max rate|half rate|fixed rate)/.test(l));
    expect(rows.map((l) => l.split(/\s{2,}/)[0])).toEqual([expect.stringMatching(/^max rate/), expect.stringMatching(/^half rate \(\d+ msg\/s\)/), 'fixed rate (50 msg/s)']);
    for (const row of rows) {
      const [, published, deliveries] = row.split(/\s{2,}/).map(Number);
      expect(published).toBeGreaterThan(0);
      expect(deliveries).toBe(published! * 4);
    }
    expect(r.stdout).not.toContain('WARNING');
    expect(r.code).toBe(0);
  }, 90_000);

  it('stops the realtime service it started when it is sent SIGTERM', async () => {
    const child = start(['--subscribers', '2', '--seconds', '30']);
    // Once a phase runs the service is up and serving (a kill during its start-up would also end
    // it, by a broken pipe: that would prove nothing).
    await new Promise<void>((resolve) => child.stderr.on('data', (d: Buffer) => d.toString().includes('fanout: max rate') && resolve()));
    // The service child exists once the bench has spawned it: read it from /proc (Linux).
    // (tsx's esbuild is a child too, and dies with it anyway: look for the service's command line.)
    const findService = () =>
      readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8')
        .trim()
        .split(/\s+/)
        .filter(Boolean)
        .map(Number)
        .find((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('cli/realtime.ts'));
    const deadline = Date.now() + 20_000;
    let service: number | undefined;
    while (service === undefined && Date.now() < deadline) {
      service = findService();
      if (service === undefined) await new Promise((r) => setTimeout(r, 50));
    }
    expect(service).toBeDefined();
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    expect((await exited)[0]).toBe(143);
    const gone = Date.now() + 10_000;
    while (alive(service!) && Date.now() < gone) await new Promise((r) => setTimeout(r, 50));
    expect(alive(service!)).toBe(false);
  }, 60_000);

  it('rejects an invalid option with exit code 2 and names it', async () => {
    const r = await bench(['--seconds', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/invalid --seconds/);
  });
});
