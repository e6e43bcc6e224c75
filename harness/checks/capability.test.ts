import { describe, expect, it } from 'vitest';
import { cloneRun } from '../history/simulate.ts';
import type { ProbeEvent } from '../history/types.ts';
import { capabilityChecker } from './capability.ts';
import { cleanRun, insertEvent } from './testing.ts';

const probe = (t: number, action: string, expected: ProbeEvent['expected'], outcome: ProbeEvent['outcome']): ProbeEvent => ({
  type: 'probe', t, client: 'a', action, expected, outcome, ...(outcome === 'refused' ? { error: '40160 not permitted' } : {}),
});

describe('capability', () => {
  it('is valid when every probe got the expected answer, and vacuously without probes', () => {
    let run = insertEvent(cleanRun(), probe(5, 'publish chat:lobby:incoming', 'refused', 'refused'));
    run = insertEvent(run, probe(6, 'publish chat:lobby:outgoing', 'allowed', 'allowed'));
    expect(capabilityChecker()(run.history, run.final)).toMatchObject({ valid: true, details: { probes: 2, wrong: 0, refusedAsExpected: 1 } });
    const none = cloneRun(cleanRun());
    expect(capabilityChecker()(none.history, none.final)).toMatchObject({ valid: true, details: { probes: 0 } });
  });

  it('catches a token with full capability (a forbidden publish allowed)', () => {
    const run = insertEvent(cleanRun(), probe(5, 'publish chat:lobby:incoming', 'refused', 'allowed'));
    const r = capabilityChecker()(run.history, run.final);
    expect(r).toMatchObject({ valid: false, failedAt: 5, details: { wrong: 1 } });
    expect(r.details.wrongExamples).toEqual([{ client: 'a', action: 'publish chat:lobby:incoming', expected: 'refused', outcome: 'allowed', t: 5 }]);
  });
});
