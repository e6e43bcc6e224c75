import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findScenario } from '../../scenarios/index.ts';
import { chartInk, launchChromium, openFromDisk, saveScreenshot } from '../report/browser.ts';
import { freshDatabase } from '../testing/pg.ts';
import { CAPACITY_CHARTS } from './html-charts.ts';
import { runCapacity, type CapacityResult } from './run.ts';
import { generatorSaturated } from './sweep.ts';
import { writeCapacityReport } from './write.ts';

describe('generator saturation, for the sweep', () => {
  const point = (t: number, loop: number | null, cpu: number | null) => ({ t, opsPerSec: 1, deliveriesPerSec: 1, errors: 0, dropped: 0, e2eP50: 1, e2eP90: 1, e2eP99: 1, e2eMax: 1, eventLoopDelayP99Ms: loop, cpuPercent: cpu });
  it('takes two seconds over the limits (event-loop delay p99 50 ms, CPU 90%), not one stalled second', () => {
    const tl = (points: ReturnType<typeof point>[]) => ({ timeline: { bucketSeconds: 1, points } });
    expect(generatorSaturated(tl([point(0, 12, 40), point(1, 80, 40), point(2, 10, 50), point(3, null, null)]))).toBe(false);
    expect(generatorSaturated(tl([point(0, 12, 40), point(1, 80, 40), point(2, 10, 95)]))).toBe(true);
    expect(generatorSaturated(tl([point(0, 60, 40), point(5, 51, 40)]))).toBe(true);
  });
});

/**
 * A short real sweep of `steady` on the stack. The SLO caps the operations a 2 s step may start
 * (plus the real latency and loss conditions, held loosely): the knee must come out at exactly
 * 17.5 ops/s whatever this machine's speed, so the test judges the sweep's mechanics, bisection
 * included, while every step still runs the real clients, Lambda, Postgres and connector.
 */
describe('capacity sweep on the real stack', () => {
  let dir: string;
  let browser: Browser | undefined;
  let r: CapacityResult;
  let files: { json: string; markdown: string; html: string };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'capacity-'));
  });
  afterAll(async () => {
    await browser?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('steps up the rate, stops at the first failing step, bisects to the knee, and measures every part', { timeout: 90_000 }, async () => {
    const databaseUrl = await freshDatabase();
    const lines: string[] = [];
    r = await runCapacity({
      scenario: findScenario('steady')!,
      startRate: 5,
      stepRate: 10,
      maxRate: 60,
      stepDurationMs: 2000,
      warmupMs: 500,
      refine: 2,
      // The knee is set by operation counts, not latency, so the test holds on a busy machine.
      slo: { ops: ['count<38'], lost: ['count==0'] },
      seed: 7,
      outDir: dir,
      targets: [{ ratePerRoom: 2, rooms: 1000, readersPerRoom: 50 }],
      stackOpts: { pg: 'external', databaseUrl },
      print: (l) => lines.push(l),
    });
    files = await writeCapacityReport(r);

    // 5 and 15 pass (10 and 30 operations), 25 fails (50); bisection tries 20 (40: fails) and 17.5 (35: passes).
    // A step the generator alone failed (a stall on a busy machine) is repeated, and the repeat counts.
    const counted = r.steps.filter((s) => !s.superseded);
    expect(counted.map((s) => [s.targetRate, s.refinement, s.verdict === 'pass']), JSON.stringify(r.steps.map((s) => s.reasons))).toEqual([
      [5, false, true],
      [15, false, true],
      [25, false, false],
      [20, true, false],
      [17.5, true, true],
    ]);
    for (const s of counted.filter((x) => x.verdict !== 'pass')) expect(s.reasons).toContain(`SLO ops count<38 broken (${(s.targetRate * 2).toFixed(1)})`);
    expect(r.knees).toHaveLength(1);
    expect(r.knees[0]).toMatchObject({ status: 'found', knee: { targetRate: 17.5 }, firstFailure: { targetRate: 20 } });
    expect(r.exitCode).toBe(0);
    for (const s of counted) {
      expect(s.achieved.opsPerSec, `step ${s.index}`).toBeGreaterThan(s.targetRate * 0.7);
      expect(s.counts.lost).toBe(0);
      expect(s.e2e.count).toBeGreaterThan(0);
      // Every part of the stack was sampled during the step's load: Postgres, the connector, the harness process.
      const parts = s.resources.parts.map((p) => p.part.split(' ')[0]);
      expect(parts, `step ${s.index}`).toEqual(expect.arrayContaining(['postgres', 'connector', 'harness']));
      expect(s.resources.parts.find((p) => p.part.startsWith('harness'))!.cpuAvgPercent).toBeGreaterThan(1);
      // Measured on the realtime service and the Lambda endpoint, not modelled.
      expect(s.traffic.lambdaInvocations).toBeGreaterThanOrEqual(s.counts.sent);
      expect(s.traffic.realtimeOut).toBeGreaterThan(0);
    }
    expect(r.projectionBasis).toEqual({ step: counted[4]!.index, measured: true });
    expect(r.projections.map((p) => p.label)).toEqual(['knee (17.5 ops/s on 1 room(s))', 'target 1']);
    const target = r.projections[1]!;
    expect(target.perSecond.lambdaInvocations).toBeGreaterThanOrEqual(2000);
    expect(target.perMonth.lambdaInvocations).toBeGreaterThanOrEqual(2000 * 2_592_000);
    expect(target.perSecond.deliveries).toBeGreaterThan(target.perSecond.publishes);
    expect(lines.some((l) => /^step +\d+\* users\/room 2  rate +17\.5\/s .*-> pass/.test(l))).toBe(true);
    expect(lines.some((l) => /ops\/s +\d+ +deliveries\/s/.test(l))).toBe(true);
  });

  it('writes capacity.json, capacity.md and a capacity.html that Chromium draws, the knee marked, without console errors', { timeout: 30_000 }, async () => {
    expect(r, 'the sweep ran').toBeDefined();
    const json = JSON.parse(await readFile(files.json, 'utf8')) as CapacityResult;
    expect(json.knees[0]!.knee!.targetRate).toBe(17.5);
    const md = await readFile(files.markdown, 'utf8');
    expect(md).toContain('knee at 17.5 ops/s');
    expect(md).toMatch(/## Projection[\s\S]*target 1/);
    for (const s of r.steps) expect(existsSync(join(s.dir, 'report.html'))).toBe(true);

    browser = await launchChromium();
    const { page, problems } = await openFromDisk(browser, files.html);
    const inked = await chartInk(page, CAPACITY_CHARTS.length);
    expect(inked.map((c) => c.id)).toEqual(CAPACITY_CHARTS.map(([id]) => id));
    for (const c of inked) expect(c.inked, c.id).toBeGreaterThan(2000);
    expect(await page.locator('h1').innerText()).toContain('knee found');
    expect(await page.locator('.headline').innerText()).toContain('knee at 17.5 ops/s');
    const shot = await saveScreenshot(page, 'capacity-html');
    expect(shot.bytes).toBeGreaterThan(30_000);
    expect(problems).toEqual([]);
    await page.close();
  });
});
