import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findScenario } from '../../scenarios/index.ts';
import { executeScenario } from '../runner/execute.ts';
import { startStack } from '../stack/index.ts';
import { freshDatabase } from '../testing/pg.ts';
import { stackNeeds } from './nemesis.ts';
import { parseFaultSpec } from './spec.ts';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('--fault specs', () => {
  it('parses name, value, time and duration, and says what the stack needs', () => {
    expect(parseFaultSpec('connector-kill@5s:1s')).toMatchObject({ name: 'connector-kill', atMs: 5000, durationMs: 1000 });
    expect(parseFaultSpec('lambda-errors=0.3@0:2s')).toMatchObject({ name: 'lambda-errors', value: '0.3', atMs: 0, durationMs: 2000 });
    const specs = ['net-latency=connector-db/50ms@1s:2s', 'connector-failover@2s'].map((f) => parseFaultSpec(f));
    expect(stackNeeds(specs)).toEqual({ links: ['connector-db'], connectors: 2 });
  });

  it('refuses bad specs with a message naming what is wrong', () => {
    expect(() => parseFaultSpec('nope@1s')).toThrow(/unknown fault 'nope'.*connector-kill/);
    expect(() => parseFaultSpec('connector-kill')).toThrow(/NAME\[=VALUE\]@TIME/);
    expect(() => parseFaultSpec('rt-pause@1s')).toThrow(/needs a DURATION/);
    expect(() => parseFaultSpec('lambda-errors=2@1s:1s')).toThrow(/between 0 and 1/);
    expect(() => parseFaultSpec('net-cut=moon@1s:1s')).toThrow(/LINK one of/);
    expect(() => parseFaultSpec('connector-kill@soon')).toThrow(/TIME 'soon' is not a duration/);
  });
});

describe('connector process', () => {
  it('is killed with SIGKILL, restarts with a new pid, and leaves no process behind', async () => {
    const stack = await startStack({ pg: 'external', databaseUrl: await freshDatabase({ migrate: false }) });
    const first = stack.connector!.pid()!;
    try {
      expect(alive(first)).toBe(true);
      await stack.connectorControl!.kill();
      expect(alive(first)).toBe(false);
      // With no connector the stack cannot settle, and says what it is waiting for.
      expect(await stack.quiesce(300)).toEqual({ settled: false, waiting: ['connector: not answering'] });
      await stack.connectorControl!.start();
      expect(stack.connector!.pid()).not.toBe(first);
      expect((await stack.connector!.health())?.active).toBeDefined();
      expect(await stack.quiesce(30_000)).toEqual({ settled: true, waiting: [] });
    } finally {
      const second = stack.connector!.pid();
      await stack.stop();
      if (second) expect(alive(second)).toBe(false);
    }
  }, 60_000);
});

describe('connector-crash', () => {
  // A database of its own: NOTIFY-only mode listens on the original connector's channel, which
  // is one per database (not per schema), so it must not share a database with another run.
  const run = async (mutants: ['connector-notify-only'] | []) =>
    executeScenario({
      scenario: findScenario('connector-crash')!,
      overrides: { durationMs: 5000, rate: 30, rooms: 2, users: 2, readers: 1 },
      seed: 9,
      thresholdFlags: [],
      mutants,
      outDir: mkdtempSync(join(tmpdir(), 'connector-crash-')),
      stackOpts: { pg: 'external', databaseUrl: await freshDatabase({ migrate: false }) },
      quiet: true,
    });

  it('durable mode loses nothing across repeated kill -9, and says how long each catch-up took', async () => {
    const { report, exitCode } = await run([]);
    expect(report.checks.filter((c) => c.valid !== true)).toEqual([]);
    expect(report.counts.lost).toBe(0);
    expect(report.counts.duplicated).toBe(0);
    expect(report.faults.map((f) => f.name)).toEqual(['connector-kill', 'connector-kill', 'connector-kill']);
    for (const f of report.faults) expect(f.detail).toMatch(/restarted in \d+ ms; (caught up \d+ ms after the restart began|nothing to catch up)/);
    // Five seconds with three outages make latency thresholds meaningless here; loss ones must hold.
    expect(report.thresholds.filter((t) => !t.passed && t.metric !== 'e2e_latency')).toEqual([]);
    expect(exitCode).not.toBe(1);
  }, 120_000);

  it('NOTIFY-only mode (the original connector) loses what was committed while it was down, and the report counts it', async () => {
    const { report, exitCode } = await run(['connector-notify-only']);
    expect(report.counts.lost).toBeGreaterThan(0);
    expect(report.checks.find((c) => c.name === 'delivery')?.valid).toBe(false);
    expect(report.faults[0]?.detail).toMatch(/NOTIFY-only mode/);
    expect(exitCode).toBe(1);
  }, 120_000);
});

describe('realtime-restart', () => {
  it('clients and connector reconnect by themselves after the service loses all state; no acknowledged change is lost and every view converges', async () => {
    const { report } = await executeScenario({
      scenario: findScenario('realtime-restart')!,
      overrides: { durationMs: 6000, rate: 30, rooms: 2, users: 2, readers: 1 },
      seed: 5,
      thresholdFlags: [],
      mutants: [],
      outDir: mkdtempSync(join(tmpdir(), 'realtime-restart-')),
      stackOpts: { pg: 'external', databaseUrl: await freshDatabase({ migrate: false }) },
      quiet: true,
    });
    expect(report.checks.filter((c) => c.valid !== true)).toEqual([]);
    expect(report.counts.lost).toBe(0);
    expect(report.faults.map((f) => f.name)).toEqual(['rt-restart', 'rt-restart']);
    // 6 users + the connector lost their connections, and all came back.
    // On a busy machine a restart may start late (the detail then says so); what must hold is that all 7 came back.
    for (const f of report.faults) expect(f.detail).toMatch(/7 connections lost(: started [\d.]+ s late: [^>]*)? -> listening again; all 7 connections back \d+ ms later/);
  }, 120_000);
});

describe('slot-lag', () => {
  it('the WAL connector stopped while writers go on: the slot falls behind, catches up after the restart, and nothing is lost or doubled', async () => {
    const { report } = await executeScenario({
      scenario: findScenario('steady')!,
      overrides: { durationMs: 5000, rate: 20, rooms: 1, users: 2, readers: 1 },
      seed: 11,
      thresholdFlags: [],
      mutants: [],
      faults: ['slot-lag=2s@1s'],
      outDir: mkdtempSync(join(tmpdir(), 'slot-lag-')),
      stackOpts: { pg: 'external', databaseUrl: await freshDatabase({ migrate: false }), connectorMode: 'wal' },
      quiet: true,
    });
    expect(report.faults).toHaveLength(1);
    expect(report.checks.filter((c) => c.valid !== true)).toEqual([]);
    expect(report.counts.lost).toBe(0);
    expect(report.counts.duplicated).toBe(0);
    const detail = report.faults[0]!.detail ?? '';
    expect(detail).toMatch(/stopped primary for 2000 ms; slot \S+ unconsumed -> slot \S+ behind by \d+ bytes after [\d.]+ s unconsumed; caught up \d+ ms after the restart began/);
    // Writers went on while nothing read the slot: it held their WAL.
    expect(Number(/behind by (\d+) bytes/.exec(detail)![1])).toBeGreaterThan(0);
  }, 120_000);
});
