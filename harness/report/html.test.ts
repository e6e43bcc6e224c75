import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCheckers } from '../checks/index.ts';
import { simulate, type SimOp } from '../history/simulate.ts';
import type { HistoryEvent } from '../history/types.ts';
import { chartInk, launchChromium, openFromDisk, saveScreenshot } from './browser.ts';
import { buildReport } from './build.ts';
import { collectEnvironment } from './environment.ts';
import { CHARTS, toHtml } from './html.ts';
import { writeReport } from './write.ts';


/** Twenty seconds of posts and edits in two rooms, with health samples, a failure and a fault window. */
function sampleReport() {
  const ops: SimOp[] = [];
  for (let i = 0; i < 400; i++) {
    const client = ['a', 'b', 'x'][i % 3]!;
    const t = i * 50 + 5;
    if (i < 12 || i % 4 === 0) ops.push({ t, op: 'post', client, id: `p${i}`, commitDelay: 3 + (i % 7) });
    else ops.push({ t, op: 'edit', client, target: `p${i % 12 - (i % 12) % 3 + (i % 3)}`, commitDelay: 2 + (i % 11), fail: i % 97 === 0 ? 'timeout' : undefined });
  }
  const run = simulate({ clients: [{ id: 'a', room: 'lobby' }, { id: 'b', room: 'lobby' }, { id: 'c', room: 'lobby', joinT: 8000 }, { id: 'x', room: 'den' }], ops });
  const extra: HistoryEvent[] = [
    { type: 'fault', t: 6000, name: 'kill-connector', phase: 'start' },
    { type: 'fault', t: 9000, name: 'kill-connector', phase: 'end' },
    { type: 'dropped', t: 12000, op: 'post', reason: 'behind schedule' },
  ];
  for (let t = 500; t < 20000; t += 1000) extra.push({ type: 'health', t, eventLoopDelayP99Ms: 5 + (t % 7000) / 1000, cpuPercent: 30 + (t % 5000) / 200 });
  const history = [...run.history.slice(0, -1), ...extra, run.history.at(-1)!].sort((p, q) => p.t - q.t || (p.type === 'run-start' ? -1 : 0));
  const checks = runCheckers(history, run.final);
  return buildReport({
    scenario: 'edit-storm <html>', history, final: run.final, checks,
    thresholds: [{ metric: 'e2e_latency', expr: 'p(99)<50', value: 16.1, passed: true }],
    environment: collectEnvironment(), options: { rate: 20, note: '</script><b>' },
  });
}

describe('report.html', () => {
  it('is one self-contained file: no external resource, the data and Chart.js inline, text escaped', () => {
    const html = toHtml(sampleReport());
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/i);
    expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org)[^\s"')]+\.(js|css)/);
    expect(html).not.toContain('sourceMappingURL');
    expect(html).toContain('edit-storm &#60;html&#62;');
    expect(html).not.toContain('</script><b>');
    expect((html.match(/<\/script>/g) ?? []).length).toBe(3);
    for (const [id] of CHARTS) expect(html).toContain(`<canvas id="${id}">`);
  });
});

describe('report.html in Chromium', () => {
  let browser: Browser;
  let dir: string;
  beforeAll(async () => {
    browser = await launchChromium();
    dir = await mkdtemp(join(tmpdir(), 'report-html-'));
  });
  afterAll(async () => {
    await browser?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('renders every chart from disk without console errors or network requests', async () => {
    const report = sampleReport();
    const written = await writeReport(dir, report);
    expect((await readFile(written.html, 'utf8')).length).toBeGreaterThan(200_000);
    const { page, problems } = await openFromDisk(browser, written.html);
    // Every canvas has a drawing on it: count pixels that are not blank.
    const inked = await chartInk(page, CHARTS.length);
    expect(inked.map((c) => c.id)).toEqual(CHARTS.map(([id]) => id));
    for (const c of inked) {
      expect(c.width, c.id).toBeGreaterThan(200);
      expect(c.inked, c.id).toBeGreaterThan(2000);
    }
    expect(await page.locator('h1').innerText()).toBe('edit-storm <html>: passed');
    expect(await page.locator('table').first().innerText()).toContain('delivery');
    const shot = await saveScreenshot(page, 'report-html');
    expect(shot.bytes).toBeGreaterThan(50_000);
    expect(problems).toEqual([]);
    await page.close();
  });
});
