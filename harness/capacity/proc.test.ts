import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { machineTicks, parseStat, readAllStats, treeUsage, type ProcStat } from './proc.ts';
import { ResourceSampler, summarizeSamples, type ResourceSample } from './sampler.ts';

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

describe('resource sampler', () => {
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) c.kill('SIGKILL');
  });

  it('tells a busy process from an idle one', async () => {
    const busy = spawn(process.execPath, ['-e', 'const end = Date.now() + 20000; while (Date.now() < end) {}'], { stdio: 'ignore' });
    const idle = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)'], { stdio: 'ignore' });
    children.push(busy, idle);
    const sampler = new ResourceSampler(() => [
      { part: 'busy', pid: busy.pid! },
      { part: 'idle', pid: idle.pid! },
    ], 250);
    sampler.start();
    try {
      // Poll until enough samples exist (no event tells when the kernel has accounted the ticks).
      const deadline = Date.now() + 10_000;
      while (sampler.samples.length < 6 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    } finally {
      sampler.stop();
    }
    // The first samples cover the children's start-up; judge the later ones.
    const s = summarizeSamples(sampler.samples.slice(2));
    const busyPart = s.parts.find((p) => p.part === 'busy')!;
    const idlePart = s.parts.find((p) => p.part === 'idle')!;
    expect(s.samples).toBeGreaterThanOrEqual(4);
    // How much CPU the spinning child gets depends on what else the two cores run; that it gets
    // more than a sleeping one, and no more than the machine has, does not.
    expect(busyPart.cpuAvgPercent).toBeGreaterThan(idlePart.cpuAvgPercent);
    expect(busyPart.cpuMaxPercent).toBeLessThanOrEqual(cpus().length * 100 * 1.1);
    expect(idlePart.cpuAvgPercent).toBeGreaterThanOrEqual(0);
    expect(idlePart.rssMaxMiB).toBeGreaterThan(10);
  });

  it('summarises averages, peaks and the harness event loop over the samples given', () => {
    const sample = (epochMs: number, cpu: number, rss: number, elu: number): ResourceSample => ({
      epochMs,
      parts: [{ part: 'postgres', pid: 1, cpuPercent: cpu, rssMiB: rss, processes: 3 }],
      machineCpuPercent: cpu / 2,
      harnessElu: elu,
    });
    const s = summarizeSamples([sample(1, 20, 100, 0.2), sample(2, 60, 140, 0.6)]);
    expect(s).toEqual({
      samples: 2,
      parts: [{ part: 'postgres', cpuAvgPercent: 40, cpuMaxPercent: 60, rssMaxMiB: 140 }],
      machineCpuAvgPercent: 20,
      harnessEluAvg: 0.4,
      harnessEluMax: 0.6,
    });
    expect(summarizeSamples([])).toEqual({ samples: 0, parts: [], machineCpuAvgPercent: null, harnessEluAvg: 0, harnessEluMax: 0 });
  });
});
