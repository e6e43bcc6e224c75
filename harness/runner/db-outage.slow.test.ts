/**
 * Postgres down for longer than the integration's retries last (issue 27), time-scaled so that
 * AWS's retry horizon of 3 minutes is 1.5 s. With the on-failure destination the events whose
 * retries ran out are kept and replayed once the database is back: nothing acknowledged is lost,
 * nothing is applied twice. One run, to stay near a minute on a busy machine; the default rules'
 * side (the checker naming the dropped envelopes and the cause) is in
 * harness/checks/acknowledged-writes.test.ts, and the destination's record and idempotent replay
 * in harness/lambda/destination.test.ts.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findScenario } from '../../scenarios/index.ts';
import { RULES_PRESETS } from '../stack/rules-presets.ts';
import { behaviourFailures } from '../testing/behaviour.ts';
import { executeScenario } from './execute.ts';

const dbOutage = findScenario('db-outage')!;
// The Lambda retries 0.5 s and 1 s after a failure; the outage (73% of the load, from 13% in) lasts 4.4 s.
const scenario = { ...dbOutage, stack: { ...dbOutage.stack, timeScale: 1 / 120 } };
const preset = RULES_PRESETS['ably-lambda-destination'];

describe('db-outage', () => {
  it('with the on-failure destination and its replay, an outage longer than the retries loses and doubles nothing', async () => {
    const printed: string[] = [];
    const { report } = await executeScenario({
      scenario,
      overrides: { durationMs: 6000, rate: 20, rooms: 1, users: 2, readers: 1 },
      seed: 27,
      thresholdFlags: [],
      mutants: [],
      outDir: mkdtempSync(join(tmpdir(), 'db-outage-')),
      // An embedded Postgres of its own: the fault stops the server.
      stackOpts: { pg: 'embedded', rulesFile: preset.rulesFile, eventInvokeConfig: preset.eventInvokeConfig },
      print: (s) => printed.push(s),
    });
    expect(report.faults.map((f) => f.name)).toEqual(['pg-down']);
    // The outage outlasted the Lambda's retries: events were given up to the destination, and all replayed.
    const replay = /on-failure destination replayed: (\d+) events, (\d+) succeeded, 0 failed/.exec(printed.join(''));
    expect(replay, printed.join('')).not.toBeNull();
    expect(Number(replay![1])).toBeGreaterThan(0);
    expect(replay![2]).toBe(replay![1]);
    expect(behaviourFailures(report)).toEqual({ checks: [], thresholds: [] });
    expect(report.counts.lost).toBe(0);
    expect(report.counts.duplicated).toBe(0);
  }, 120_000);
});
