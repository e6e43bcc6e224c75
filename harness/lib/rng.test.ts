import { describe, expect, it } from 'vitest';
import { randomSource, Rng } from './rng.ts';

const draw = (next: () => number, n = 8) => Array.from({ length: n }, next);

describe('seeded randomness', () => {
  it('gives the same floats in [0, 1) for the same seed, other floats for another', () => {
    const a = draw(randomSource(42));
    expect(draw(randomSource(42))).toEqual(a);
    expect(draw(randomSource(43))).not.toEqual(a);
    expect(a.every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it('forks the same independent generators from the same seed', () => {
    const forks = (seed: number) => {
      const root = new Rng(seed);
      return [root.fork(), root.fork()].map((r) => draw(() => r.int(0, 1000)));
    };
    expect(forks(7)).toEqual(forks(7));
    expect(forks(7)[0]).not.toEqual(forks(7)[1]);
  });
});
