import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase } from '../testing/pg.ts';
import { readBaseline } from './baseline.ts';
import { runGate, type GateInput } from './run.ts';
import { gateMarkdown, verdictOf } from './markdown.ts';
import { writeGateOutputs } from './write.ts';

/**
 * The gate against the real stack: a baseline made here, then the unchanged stack compared with
 * it (must pass) and the same stack with every chat-writer invocation delayed (must fail, naming
 * the latency that regressed). Short runs, so the tolerance is generous; the planted delay is
 * far beyond it.
 */
describe('the regression gate on the real stack', () => {
  let dir: string;
  let databaseUrl: string;
  // Far beyond the +100% tolerance even when a short baseline run lands high (default rules: p50 about 30-70 ms).
  const PLANT_MS = 150;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gate-'));
    databaseUrl = await freshDatabase();
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const gate = (name: string, extra: Partial<GateInput>) =>
    runGate({
      baselinePath: join(dir, 'baseline.json'),
      scenarios: ['steady'],
      repeat: 3,
      durationMs: 2500,
      warmupMs: 1000,
      outDir: join(dir, name),
      stackOpts: { pg: 'external', databaseUrl },
      // The gate judges latency by comparison with its baseline; the scenario's absolute bounds are for quiet machines, not a test beside others.
      thresholds: ['e2e_latency=p(99)<600000'],
      ...extra,
    });

  // Three gates of four runs each: 90-105 s beside the rest of the suite on 2 cores, 120 s twice.
  it('writes a baseline, passes the unchanged stack, and fails the planted slowdown naming the metric, the change and the confidence', { timeout: 240_000 }, async () => {
    // Short runs beside other tests: settings as generous as CI's, which travel in the baseline as a CI baseline's do.
    const made = await gate('make', { updateBaseline: true, tolerance: 1, confidence: 0.9, minChangeMs: 15, note: 'test' });
    expect(made.exitCode).toBe(0);
    expect(verdictOf(made)).toBe(`baseline written to ${join(dir, 'baseline.json')}`);
    const baseline = await readBaseline(join(dir, 'baseline.json'));
    expect(baseline.scenarios.steady!.seeds).toEqual([1, 2, 3]);
    expect(baseline.scenarios.steady!.samples.e2e_p50).toHaveLength(3);
    expect(baseline.scenarios.steady!.options).toMatchObject({ durationMs: 2500, rate: 10 });
    expect(baseline).toMatchObject({ gate: { repeat: 3, tolerance: 1, confidence: 0.9, minChangeMs: 15 }, note: 'test', machine: { cpus: expect.any(Number) } });

    const same = await gate('same', {});
    expect(same.settings).toMatchObject({ repeat: 3, tolerance: 1, confidence: 0.9, minChangeMs: 15 });
    expect(same.warnings).toEqual([]);
    expect(same.scenarios[0]!.comparisons.filter((c) => c.verdict === 'regressed').map((c) => c.reason)).toEqual([]);
    expect(same.exitCode).toBe(0);
    expect(verdictOf(same)).toMatch(/^PASSED: steady within \+100\.0% of /);

    const slow = await gate('slow', { plantLambdaDelayMs: PLANT_MS });
    expect(slow.exitCode).toBe(1);
    expect(slow.warnings.join(' ')).toContain(`delayed by ${PLANT_MS} ms`);
    const p50 = slow.scenarios[0]!.comparisons.find((c) => c.metric === 'e2e_p50')!;
    expect(p50.verdict).toBe('regressed');
    expect(p50.currentMedian - p50.baselineMedian).toBeGreaterThan(PLANT_MS * 0.6);
    // Every slowed run ranks above every baseline run: the best 3-against-3 can show, 95%.
    expect(p50.confidence).toBeCloseTo(0.95, 9);
    expect(p50.reason).toMatch(/^end-to-end latency p50 regressed: median \d+\.\d\d ms -> \d+\.\d\d ms \(\d+\.\d% worse\), beyond the \+100\.0% tolerance; confidence 95\.0%$/);
    // The delay also breaks steady's own p50 threshold; the regression is named on its own besides.
    expect(verdictOf(slow)).toMatch(/^FAILED: .*steady: end-to-end latency p50 regressed: median/);

    const files = await writeGateOutputs(slow, { junitPath: join(dir, 'junit', 'gate.xml') });
    const junit = await readFile(files.extraJunit!, 'utf8');
    expect(junit).toMatch(/<testsuites name="regression gate" tests="\d+" failures="[1-9]\d*"/);
    expect(junit).toMatch(/<testcase classname="gate\.steady" name="end-to-end latency p50 vs baseline"><failure message="end-to-end latency p50 regressed/);
    expect(await readFile(files.markdown, 'utf8')).toBe(gateMarkdown(slow));
  });

  it('refuses a missing baseline, an unknown scenario, and a planted slowdown as a baseline, with one-line reasons', async () => {
    await expect(runGate({ baselinePath: join(dir, 'none.json'), outDir: join(dir, 'x') })).rejects.toThrow(/baseline .*none\.json does not exist \(make one with --update-baseline\)/);
    await writeFile(join(dir, 'bad.json'), JSON.stringify({ kind: 'editable-chat-gate-baseline', version: 1, createdAt: 'x', machine: {}, scenarios: {} }));
    await expect(runGate({ baselinePath: join(dir, 'bad.json'), outDir: join(dir, 'x') })).rejects.toThrow(/baseline .*bad\.json: field 'machine\.cpuModel'/);
    await expect(runGate({ baselinePath: join(dir, 'b.json'), scenarios: ['nope'], updateBaseline: true, outDir: join(dir, 'x') })).rejects.toThrow(/--scenarios: unknown scenario 'nope'/);
    await expect(runGate({ baselinePath: join(dir, 'b.json'), updateBaseline: true, plantLambdaDelayMs: 5, outDir: join(dir, 'x') })).rejects.toThrow(/never become the baseline/);
  });
});
