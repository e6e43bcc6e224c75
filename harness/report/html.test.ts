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


/** Twenty seconds of posts and edits in two rooms, with health samples, a failure and a fault window; with `abuse`, an abuse run's attacks and memory samples too. */
function sampleReport(abuse = false) {
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
  if (abuse) extra.push(...abuseEvents());
  const history = [...run.history.slice(0, -1), ...extra, run.history.at(-1)!].sort((p, q) => p.t - q.t || (p.type === 'run-start' ? -1 : 0));
  const checks = runCheckers(history, run.final);
  return buildReport({
    scenario: 'edit-storm <html>', history, final: run.final, checks,
    thresholds: [{ metric: 'e2e_latency', expr: 'p(99)<50', value: 16.1, passed: true }],
    environment: collectEnvironment(), options: { rate: 20, note: '</script><b>' },
  });
}

function abuseEvents(): HistoryEvent[] {
  const attack = (attack: string, codes: Record<string, number>, unexpected = 0, detail?: string): HistoryEvent => ({
    type: 'attack', t: 19_000, attack, description: `${attack} <desc>`, attempts: 100, refused: Object.values(codes).reduce((a, b) => a + b, 0),
    codes, expectedCodes: ['42911', '42921'], allowed: 10, unexpected, ...(detail ? { detail } : {}),
  });
  const resources: HistoryEvent[] = [1, 2, 3].map((i) => ({ type: 'resources', t: i * 5000, parts: [{ part: 'realtime', rssMiB: [120, 190, 150][i - 1]! }, { part: 'lambda', rssMiB: 300 }] }));
  return [attack('flood-raw', { '42911': 60, '42921': 30 }), attack('flood-sdk', { '40160': 5 }, 3, 'went <through>'), ...resources];
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

  it('shows an abuse run\'s attacks and memory as report.md does, and nothing of them for other runs', () => {
    expect(toHtml(sampleReport())).not.toContain('id="attacks"');
    const report = sampleReport(true);
    const html = toHtml(report);
    const section = html.slice(html.indexOf('<h2 id="attacks">'), html.indexOf('<h2>Environment</h2>'));
    const rows = [...section.matchAll(/<tr>(.*?)<\/tr>/g)].map((m) => [...m[1]!.matchAll(/<t[dh][^>]*>(.*?)<\/t[dh]>/g)].map((c) => c[1]));
    expect(rows[0]).toEqual(['attack', 'attempts', 'refused', 'codes seen', 'allowed by the limit', 'unexpected successes', 'result']);
    expect(rows[1]).toEqual(['flood-raw', '100', '90', '42911 x60, 42921 x30', '10', '0', '<span class="badge ok">refused</span>']);
    expect(rows[2]).toEqual(['flood-sdk', '100', '5', '40160 x5', '10', '3', '<span class="badge bad">WRONG (went &#60;through&#62;)</span>']);
    expect(section).toContain('<code>flood-raw</code>: flood-raw &#60;desc&#62; (expected 42911 or 42921)');
    // The memory table: realtime grew from 120 to at most 190 MiB; the timeline lists every sample.
    expect(rows).toContainEqual(['realtime', '120', '190', '150', '70']);
    expect(rows).toContainEqual(['10.0', '190']);
    // The same figures as report.md's attacks table.
    expect(report.attacks?.map((a) => a.attack)).toEqual(['flood-raw', 'flood-sdk']);
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
    const report = sampleReport(true);
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
    expect(await page.locator('#attacks ~ table').first().innerText()).toMatch(/flood-raw\t100\t90\t42911 x60, 42921 x30/);
    const shot = await saveScreenshot(page, 'report-html');
    expect(shot.bytes).toBeGreaterThan(50_000);
    expect(problems).toEqual([]);
    await page.close();
  });
});
