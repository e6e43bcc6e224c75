import { describe, expect, it } from 'vitest';
import { parseConnectorConfig } from '../src/config.ts';
import { backoffMs, jitterSource } from '../src/pg.ts';

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

  it('takes its seed from extensions.seed, and refuses one that is not an integer, naming the key', () => {
    const base = { connector: [{ tablename: 't', ablychannelname: 'c', operation: 'INSERT' }], dbConfig: { host: 'h' }, ably: { apiKey: 'a.b:c' } };
    expect(parseConnectorConfig({ ...base, extensions: { seed: 42 } }, {}).seed).toBe(42);
    expect(parseConnectorConfig(base, {}).seed).toBeUndefined();
    expect(() => parseConnectorConfig({ ...base, extensions: { seed: 1.5 } }, {})).toThrow(/config\.extensions\.seed/);
  });
});
