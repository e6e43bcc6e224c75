import { spawn, type ChildProcess } from 'node:child_process';
import { cpus } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { ResourceSampler, summarizeSamples, type ResourceSample } from './sampler.ts';

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
