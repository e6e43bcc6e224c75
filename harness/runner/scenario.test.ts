import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { findScenario } from '../../scenarios/index.ts';
import { startStack } from '../stack/index.ts';
import { loadTarget } from '../stack/target.ts';
import { behaviourFailures } from '../testing/behaviour.ts';
import { freshDatabase } from '../testing/pg.ts';
import { executeScenario, recheckRun } from './execute.ts';

const cli = (...args: string[]) =>
  spawnSync('node', ['--import', 'tsx', 'harness/cli/scenario.ts', ...args], { encoding: 'utf8', timeout: 60_000 });

describe('npm run scenario', () => {
  it('runs a short edit-storm on the whole stack and writes a report with the contract fields', async () => {
    const outDir = mkdtempSync(join(tmpdir(), 'edit-storm-'));
    // The run works in a schema of its own on the test run's Postgres, as on any external database.
    const { report, exitCode } = await executeScenario({
      scenario: findScenario('edit-storm')!,
      overrides: { durationMs: 4000, rate: 30, rooms: 2, users: 3, readers: 1 },
      seed: 42,
      thresholdFlags: [],
      mutants: [],
      outDir,
      stackOpts: { pg: 'external', databaseUrl: inject('pgAdminUrl') },
      quiet: true,
    });
    const json = JSON.parse(readFileSync(join(outDir, 'report.json'), 'utf8')) as Record<string, unknown>;
    for (const k of ['scenario', 'passed', 'checks', 'thresholds', 'counts', 'latency', 'throughput', 'environment']) expect(json).toHaveProperty(k);
    expect(behaviourFailures(report)).toEqual({ checks: [], thresholds: [] });
    // The history says the stack settled before the final state was read (what makes "lost" sayable).
    const events = readFileSync(join(outDir, 'history.ndjson'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string });
    expect(events.filter((e) => e.type === 'settle')).toEqual([expect.objectContaining({ settled: true, waiting: [] })]);
    expect(report.counts.sent).toBeGreaterThan(50);
    expect(report.counts.delivered).toBeGreaterThan(report.counts.sent);
    expect(report.counts.lost).toBe(0);
    // Latency is measured, not judged: its thresholds depend on what else the machine runs.
    expect(report.latency.e2e?.count).toBeGreaterThan(0);
    expect(exitCode).not.toBe(1);

    // The stack parts' own CPU over the load is in the report (an external Postgres is not ours to measure).
    expect(report.stackCost?.parts.map((p) => p.part)).toEqual(expect.arrayContaining(['realtime', 'lambda', expect.stringMatching(/^connector /)]));
    expect(report.stackCost!.parts.find((p) => p.part === 'realtime')!.cpuMs).toBeGreaterThan(0);

    // What the writer saw of the integration is in the report, and two runs compare side by side.
    expect(report.integration?.messages).toBeGreaterThan(50);
    const cmp = cli('--compare', outDir, outDir, '--out', mkdtempSync(join(tmpdir(), 'compare-')));
    expect(cmp.status).toBe(0);
    expect(cmp.stdout).toMatch(/writer: out of order/);

    // The saved run is judged again offline, and a threshold it cannot meet gives k6's code 99.
    const out: string[] = [];
    expect(await recheckRun(outDir, { thresholdFlags: [], print: (s) => out.push(s) })).toBe(exitCode);
    expect(await recheckRun(outDir, { thresholdFlags: ['e2e_latency=p(50)<0.001'], print: (s) => out.push(s) })).toBe(99);
  }, 120_000);

  it('runs two scenarios at once against one database URL, each in its own schema, with nothing lost', async () => {
    const databaseUrl = await freshDatabase({ migrate: false });
    const printed: string[] = [];
    const run = (seed: number, keep: boolean) =>
      executeScenario({
        scenario: findScenario('steady')!,
        overrides: { durationMs: 3000, rate: 10, rooms: 1, users: 2, readers: 1 },
        seed,
        thresholdFlags: [],
        mutants: [],
        outDir: mkdtempSync(join(tmpdir(), 'concurrent-')),
        stackOpts: { pg: 'external', databaseUrl, ...(keep ? { keep } : {}) },
        print: (line) => printed.push(line),
        quiet: true,
      });
    const reports = (await Promise.all([run(1, false), run(2, true)])).map((r) => r.report);
    for (const report of reports) {
      expect(behaviourFailures(report)).toEqual({ checks: [], thresholds: [] });
      expect(report.counts.lost).toBe(0);
      expect(report.counts.sent).toBeGreaterThan(10);
      expect(report.counts.delivered).toBeGreaterThan(report.counts.sent);
    }
    // The first run dropped its schema; the second kept its own and said which.
    const kept = printed.join('').match(/kept schema (run_\w+)/)?.[1];
    expect(kept).toBeDefined();
    const c = new pg.Client({ connectionString: databaseUrl });
    await c.connect();
    const left = await c.query<{ nspname: string }>("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'run\\_%'");
    const rows = await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${kept}.chat_messages`);
    await c.end();
    expect(left.rows.map((r) => r.nspname)).toEqual([kept]);
    expect(rows.rows[0]!.n).toBeGreaterThan(0);
  }, 120_000);

  it('runs against a deployment it did not start, from a target file (the same workload and checkers)', async () => {
    const remote = await startStack({ pg: 'external', databaseUrl: inject('pgAdminUrl') });
    try {
      const dir = mkdtempSync(join(tmpdir(), 'target-'));
      writeFileSync(join(dir, 'target.json'), JSON.stringify(remote.endpoints));
      const { report } = await executeScenario({
        scenario: findScenario('steady')!,
        overrides: { durationMs: 3000, rate: 10 },
        seed: 7,
        thresholdFlags: [],
        mutants: [],
        outDir: join(dir, 'run'),
        target: loadTarget(join(dir, 'target.json')),
        stackOpts: {},
        quiet: true,
      });
      expect(behaviourFailures(report)).toEqual({ checks: [], thresholds: [] });
      expect(report.counts.delivered).toBeGreaterThan(report.counts.sent);
      expect(report.environment).toMatchObject({ stack: { target: { realtime: '127.0.0.1' } } });
    } finally {
      await remote.stop();
    }
  }, 60_000);

  it('lists scenarios, and refuses bad usage with exit 2 and a one-line reason', () => {
    const list = cli('--list');
    expect(list.status).toBe(0);
    expect(list.stdout).toMatch(/edit-storm\s+\S/);
    expect(list.stdout).toMatch(/self-check/);
    const unknown = cli('no-such-scenario');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr.trim().split('\n')).toHaveLength(1);
    expect(unknown.stderr).toMatch(/edit-storm/);
    expect(cli('edit-storm', '--duration', 'soon').status).toBe(2);
    expect(cli('edit-storm', '--mutant', 'nope').stderr).toMatch(/view-no-version-check/);
    expect(cli('edit-storm', '--threshold', 'oops').status).toBe(2);
    const fault = cli('edit-storm', '--fault', 'meteor@1s');
    expect(fault.status).toBe(2);
    expect(fault.stderr).toMatch(/unknown fault 'meteor'.*connector-kill/);
    expect(cli('edit-storm', '--rules', 'chaotic').stderr).toMatch(/ably-lambda, ordered, ably-lambda-destination, queue or an existing rules file/);
    expect(cli('--compare', 'only-one-dir').status).toBe(2);
    const slotLag = cli('steady', '--fault', 'slot-lag@1s');
    expect(slotLag.status).toBe(2);
    expect(slotLag.stderr).toMatch(/slot-lag needs --connector-mode wal; this run's connector captures in durable mode/);
    expect(cli('steady', '--target', '/nonexistent/target.json').stderr).toMatch(/target file \/nonexistent\/target.json/);
    const faults = cli('--list-faults');
    expect(faults.status).toBe(0);
    expect(faults.stdout).toMatch(/connector-kill\s+SIGKILL/);
    expect(faults.stdout).toMatch(/clients-functions/);
    // Fourteen CLI processes, each starting tsx: 15 s alone, over 2 minutes on a 2-core machine busy with other tests.
  }, 240_000);
});
