/**
 * The fan-out benchmark is documented as a command users run; this checks that it still runs end
 * to end (service child process, worker-thread SDK subscribers, every phase) and rejects bad flags.
 * It asserts completeness, not speed: figures come from the benchmark itself.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const BENCH = join(import.meta.dirname, 'fanout.ts');

async function bench(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', BENCH, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
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
    expect(r.stderr).toBe('');
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

  it('rejects an invalid option with exit code 2 and names it', async () => {
    const r = await bench(['--seconds', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/invalid --seconds/);
  });
});
