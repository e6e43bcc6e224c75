import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findScenario } from '../../scenarios/index.ts';
import { executeScenario } from '../runner/execute.ts';
import { freshDatabase } from '../testing/pg.ts';
import { chartInk, launchChromium, openFromDisk, saveScreenshot } from './browser.ts';
import { CHARTS } from './html.ts';
import type { Report } from './types.ts';

/** Charts whose x axis is run time: each must show the fault window. */
const TIME_CHARTS = ['chart-latency-time', 'chart-throughput', 'chart-errors', 'chart-health'];

/**
 * report.html of a real run, as `npm run scenario edit-storm -- --fault ...` writes it: the stack,
 * the real clients and a nemesis fault, then the page opened from disk in Chromium.
 */
describe('report.html of a real edit-storm run, in Chromium', () => {
  let dir: string;
  let browser: Browser | undefined;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'report-run-'));
  });
  afterAll(async () => {
    await browser?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('draws every chart, marks the fault window on every time axis, shows the header, with no console error', { timeout: 90_000 }, async () => {
    const databaseUrl = await freshDatabase();
    const { report, outDir } = await executeScenario({
      scenario: findScenario('edit-storm')!,
      overrides: { durationMs: 4000, rate: 30, rooms: 2 },
      seed: 11,
      thresholdFlags: [],
      mutants: [],
      faults: ['lambda-latency=40ms@1500ms:1s'],
      outDir: join(dir, 'edit-storm'),
      stackOpts: { pg: 'external', databaseUrl },
      quiet: true,
      print: () => {},
    });
    expect(report.counts.delivered).toBeGreaterThan(100);
    expect(report.faults.map((f) => f.name)).toEqual(['lambda-latency']);
    const onDisk = JSON.parse(await readFile(join(outDir, 'report.json'), 'utf8')) as Report;
    expect(onDisk.timeline.points.length).toBeGreaterThanOrEqual(4);

    browser = await launchChromium();
    const { page, problems } = await openFromDisk(browser, join(outDir, 'report.html'));
    const inked = await chartInk(page, CHARTS.length);
    expect(inked.map((c) => c.id)).toEqual(CHARTS.map(([id]) => id));
    for (const c of inked) {
      expect(c.width, c.id).toBeGreaterThan(200);
      expect(c.inked, c.id).toBeGreaterThan(2000);
    }
    // What the page itself said; the test's own pixel reads below draw readback hints from Chromium.
    const pageProblems = [...problems];

    // Inside the fault window, each time chart's plot area is tinted by the band from top to bottom. Several
    // columns are read, the best counted: a data line that climbs steeply (a load spike) can cover one column.
    const tinted = await page.evaluate<Record<string, number>>(`(() => {
      const report = JSON.parse(document.getElementById('report-data').textContent);
      const w = report.faults[0];
      const out = {};
      for (const id of ${JSON.stringify(TIME_CHARTS)}) {
        const chart = Chart.getChart(id);
        const area = chart.chartArea;
        const dpr = chart.currentDevicePixelRatio;
        const top = Math.round(area.top * dpr), bottom = Math.round(area.bottom * dpr);
        out[id] = 0;
        for (const f of [0.2, 0.35, 0.5, 0.65, 0.8]) {
          const x = Math.round(chart.scales.x.getPixelForValue((w.start + f * (w.end - w.start)) / 1000) * dpr);
          const { data } = chart.ctx.getImageData(x, top, 1, bottom - top);
          let red = 0;
          for (let i = 0; i < data.length; i += 4) if (data[i] > 150 && data[i + 1] < 120 && data[i + 3] > 0) red++;
          out[id] = Math.max(out[id], red / (bottom - top));
        }
      }
      return out;
    })()`);
    for (const id of TIME_CHARTS) expect(tinted[id], id).toBeGreaterThan(0.5);

    const header = await page.locator('header').innerText();
    expect(header).toMatch(/^edit-storm: (passed|failed)/);
    expect(header).toMatch(/Checks \d+\/\d+ valid: delivery/);
    expect(header).toMatch(/Thresholds e2e_latency p\(99\)<500 \(/);
    expect(header).toMatch(/Machine .* x \d+ cores/);
    expect(header).toMatch(/Versions node 20\.\d+\.\d+, harness .*ably 2\.28\.0/);
    expect(header).toMatch(/Options 30 ops\/s, 2 room\(s\) x 4 users \+ 2 readers, 4\.0 s/);
    expect(header).toMatch(/Seed 11/);
    expect(header).toContain('1 fault window(s), shaded on the time charts');

    const shot = await saveScreenshot(page, 'report-html-edit-storm');
    expect(shot.bytes).toBeGreaterThan(50_000);
    expect(pageProblems).toEqual([]);
    await page.close();
  });
});
