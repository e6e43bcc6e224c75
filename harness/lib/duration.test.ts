import { describe, expect, it } from 'vitest';
import { parseDuration } from './duration.ts';

describe('durations', () => {
  it('reads ms, s, m and h, and bare numbers as seconds', () => {
    expect(['1500ms', '1.5s', '2m', '1h', '30'].map((v) => parseDuration(v))).toEqual([1500, 1500, 120_000, 3_600_000, 30_000]);
  });

  it('refuses what is not a positive duration, naming the flag', () => {
    expect(() => parseDuration('soon')).toThrow(/^--duration 'soon' is not a duration/);
    expect(() => parseDuration('0s', '--step-duration')).toThrow(/^--step-duration '0s' must be longer than zero/);
  });
});
