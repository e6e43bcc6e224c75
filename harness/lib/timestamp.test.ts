import { describe, expect, it } from 'vitest';
import { epochMsMicros } from './timestamp.ts';

describe('epochMsMicros', () => {
  it("keeps Postgres' microseconds that Date.parse drops", () => {
    const base = Date.parse('2026-12-05T06:21:00.000Z');
    expect(epochMsMicros('2026-12-05T06:21:00.123456+00:00')).toBeCloseTo(base + 123.456, 6);
    expect(epochMsMicros('2026-12-05 06:21:00.000789+00')).toBeCloseTo(base + 0.789, 6);
    expect(epochMsMicros('2026-12-05T07:21:00.5+01:00')).toBeCloseTo(base + 500, 6);
    expect(epochMsMicros('2026-12-05T06:21:00Z')).toBe(base);
  });

  it('says NaN for text that is not a timestamp', () => {
    expect(epochMsMicros('yesterday')).toBeNaN();
  });
});
