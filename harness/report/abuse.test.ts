import { describe, expect, it } from 'vitest';
import type { AttackEvent, HistoryEvent } from '../history/types.ts';
import { abuseMarkdown, attackRows, memorySummary } from './abuse.ts';

const attack = (over: Partial<AttackEvent>): AttackEvent => ({
  type: 'attack', t: 1, attack: 'flood-raw', description: 'd', attempts: 10, refused: 8, codes: { '42911': 8 }, expectedCodes: ['42911', '42921'], allowed: 2, unexpected: 0, ...over,
});

describe('the abuse sections of the report', () => {
  it('judges each attack class: refused, only with expected codes, nothing past the limit', () => {
    const rows = attackRows([
      attack({}),
      attack({ attack: 'wrong-code', codes: { '40160': 8 } }),
      attack({ attack: 'got-through', unexpected: 1 }),
      attack({ attack: 'never-refused', refused: 0, codes: {} }),
      attack({ attack: 'never-tried', attempts: 0, refused: 0, codes: {} }),
    ])!;
    expect(rows.map((r) => [r.attack, r.asExpected])).toEqual([
      ['flood-raw', true],
      ['wrong-code', false],
      ['got-through', false],
      ['never-refused', false],
      ['never-tried', false],
    ]);
    expect(attackRows([])).toBeUndefined();
  });

  it('gives each part its memory at start, at most and at end, and the realtime service over time', () => {
    const history: HistoryEvent[] = [1, 2, 3].map((i) => ({ type: 'resources', t: i * 1000, parts: [{ part: 'realtime', rssMiB: [100, 160, 130][i - 1]! }, { part: 'lambda', rssMiB: 300 }] }));
    const m = memorySummary(history)!;
    expect(m.parts).toEqual([
      { part: 'realtime', startMiB: 100, maxMiB: 160, endMiB: 130, growthMiB: 60 },
      { part: 'lambda', startMiB: 300, maxMiB: 300, endMiB: 300, growthMiB: 0 },
    ]);
    const md = abuseMarkdown(attackRows([attack({})]), m).join('\n');
    expect(md).toMatch(/\| flood-raw +\| +10 \| +8 \| 42911 x8/);
    expect(md).toMatch(/\| +2\.0 \| +160 \|/);
    expect(memorySummary([])).toBeUndefined();
  });
});
