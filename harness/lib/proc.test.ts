import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { machineTicks, parseStat, readAllStats, treeUsage, type ProcStat } from './proc.ts';

describe('/proc parsing', () => {
  it('reads pid, parent, CPU ticks, reaped children and RSS, whatever the command name holds', () => {
    const line = '4242 (postgres: chat (idle) x) S 4200 4200 4200 0 -1 4194560 500 0 0 0 1234 567 89 10 20 0 1 0 3087960 31334400 2048 18446744073709551615 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0';
    expect(parseStat(line)).toEqual({ pid: 4242, ppid: 4200, ticks: 1234 + 567, childTicks: 89 + 10, rssPages: 2048 });
    expect(parseStat('garbage')).toBeUndefined();
  });

  it('parses this machine\'s own /proc: this process is there with CPU time and memory', () => {
    const stats = readAllStats();
    const me = stats.get(process.pid);
    expect(me?.ppid).toBe(process.ppid);
    expect(me!.ticks).toBeGreaterThan(0);
    expect(me!.rssPages).toBeGreaterThan(1000);
  });

  it('sums a tree, leaves out subtrees that are parts of their own, and counts reaped children of the root only', () => {
    const st = (pid: number, ppid: number, ticks: number, childTicks = 0, rssPages = 10): ProcStat => ({ pid, ppid, ticks, childTicks, rssPages });
    // 10 harness -> 11 worker, 20 postgres (own part) -> 21 backend; 99 unrelated.
    const stats = new Map([st(10, 1, 100, 7), st(11, 10, 5, 3), st(20, 10, 50, 40), st(21, 20, 8), st(99, 1, 1000)].map((s) => [s.pid, s]));
    expect(treeUsage(stats, 10, new Set([10, 20]))).toEqual({ ticks: 7 + 100 + 5, rssPages: 20, processes: 2 });
    expect(treeUsage(stats, 10, new Set([10, 20]), false)).toEqual({ ticks: 105, rssPages: 20, processes: 2 });
    expect(treeUsage(stats, 20, new Set([10, 20]))).toEqual({ ticks: 40 + 50 + 8, rssPages: 20, processes: 2 });
    expect(treeUsage(stats, 12345, new Set())).toBeUndefined();
  });

  it('reads busy and total jiffies from a /proc/stat line (idle and iowait are idle)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'procstat-'));
    try {
      await writeFile(join(dir, 'stat'), 'cpu  100 2 30 800 50 0 4 6 0 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n');
      expect(machineTicks(join(dir, 'stat'))).toEqual({ busy: 100 + 2 + 30 + 4 + 6, total: 992 });
      expect(machineTicks(join(dir, 'missing'))).toBeUndefined();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

