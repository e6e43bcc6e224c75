import { describe, expect, it } from 'vitest';
import { backoffMs, jitterSource } from './pg.ts';

describe('reconnect backoff', () => {
  it('replays the same jittered waits for the same seed, within min and the exponential cap', () => {
    const waits = (seed: number) => {
      const random = jitterSource(seed);
      return Array.from({ length: 10 }, (_, attempt) => backoffMs(attempt, 100, 5000, random));
    };
    expect(waits(3)).toEqual(waits(3));
    expect(waits(3)).not.toEqual(waits(4));
    waits(3).forEach((w, attempt) => {
      expect(w).toBeGreaterThanOrEqual(100);
      expect(w).toBeLessThanOrEqual(Math.min(5000, 100 * 2 ** attempt));
    });
  });
});
