/**
 * The abuse scenario, short: every attack class is refused with Ably's, AWS's or WebSocket's
 * code and counted in the report, and the honest users' checks all hold. Latency is not judged
 * (other tests load the machine); the memory section is only required to be there.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { findScenario } from '../../scenarios/index.ts';
import { behaviourFailures } from '../testing/behaviour.ts';
import { ATTACK_CLASSES } from './actors/abuse.ts';
import { executeScenario } from './execute.ts';

/**
 * Codes each attack must have been answered with at least once (the others it may see are in
 * ATTACK_CLASSES). The SDK flood meets whichever rate its pace reaches first, so it needs one of its
 * codes (asExpected), not a particular one.
 */
const REQUIRED: Record<keyof typeof ATTACK_CLASSES, string[]> = {
  'flood-raw': ['42911', '42921'],
  'flood-protocol': ['42924'],
  'flood-sdk': [],
  'slow-reader': ['42915', '80020'],
  'channel-hog': ['90010'],
  'oversize-frame': ['ws-1009'],
  'admin-poke': ['40101', 'cors-denied'],
  'lambda-forged-signature': ['InvalidSignatureException'],
  'lambda-unknown-key': ['UnrecognizedClientException'],
};

describe('abuse scenario', () => {
  it('refuses every attack with its code, counts each in the report, and keeps the honest users whole', async () => {
    const outDir = mkdtempSync(join(tmpdir(), 'abuse-'));
    const abuse = findScenario('abuse')!;
    const { report } = await executeScenario({
      // One round: every attack once within 12 s of load.
      // A protocol-message limit a service on a machine busy with other tests still reads past.
      scenario: { ...abuse, abuse: { rounds: 1, sdkFloodMs: 1_500, slowReaderBudgetMs: 15_000, niceness: 0 }, stack: { realtimeLimits: { ...abuse.stack?.realtimeLimits, protocolMessageRate: 500 } } },
      overrides: { durationMs: 12_000, rate: 20, rooms: 2, users: 3, readers: 1 },
      seed: 7,
      thresholdFlags: [],
      mutants: [],
      outDir,
      stackOpts: { pg: 'external', databaseUrl: inject('pgAdminUrl') },
      quiet: true,
    });
    expect(behaviourFailures(report)).toEqual({ checks: [], thresholds: [] });
    const rows = new Map((report.attacks ?? []).map((r) => [r.attack, r]));
    expect([...rows.keys()].sort()).toEqual(Object.keys(ATTACK_CLASSES).sort());
    for (const [attack, codes] of Object.entries(REQUIRED)) {
      const r = rows.get(attack)!;
      expect({ attack, unexpected: r.unexpected, asExpected: r.asExpected, detail: r.detail }).toEqual({ attack, unexpected: 0, asExpected: true, detail: undefined });
      for (const code of codes) expect({ attack, code, seen: (r.codes[code] ?? 0) > 0 }).toEqual({ attack, code, seen: true });
    }
    // The capability check judged one probe per attack class, each refused as expected.
    const capability = report.checks.find((c) => c.name === 'capability')!.details as { byAction: Record<string, { tried: number; asExpected: number }> };
    const attackProbes = Object.entries(capability.byAction).filter(([a]) => a.startsWith('attack '));
    expect(attackProbes.map(([, v]) => v)).toEqual(Object.keys(ATTACK_CLASSES).map(() => ({ tried: 1, asExpected: 1, answers: expect.any(Array) })));
    expect(report.memory?.parts.map((p) => p.part)).toContain('realtime');
    const md = readFileSync(join(outDir, 'report.md'), 'utf8');
    expect(md).toMatch(/## Attacks/);
    expect(md).toMatch(/## Memory/);
  }, 150_000);
});
