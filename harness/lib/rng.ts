/** Seeded randomness for every random choice of a run: the same seed gives the same sequence. */
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';

export class Rng {
  private readonly gen;

  constructor(readonly seed: number) {
    this.gen = xoroshiro128plus(seed | 0);
  }

  /** Uniform in [0, 1). */
  float(): number {
    return uniformFloat64(this.gen);
  }

  /** Uniform integer in [from, to], both included. */
  int(from: number, to: number): number {
    return uniformInt(this.gen, from, to);
  }

  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new Error('pick from an empty list');
    return xs[this.int(0, xs.length - 1)]!;
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  /** Picks a key of `weights` with probability proportional to its weight. */
  weighted<K extends string>(weights: Record<K, number>): K {
    const entries = Object.entries(weights) as Array<[K, number]>;
    const total = entries.reduce((s, [, w]) => s + w, 0);
    let x = this.float() * total;
    for (const [k, w] of entries) {
      x -= w;
      if (x < 0) return k;
    }
    return entries[entries.length - 1]![0];
  }

  /** An independent generator derived from this one (per virtual user). */
  fork(): Rng {
    return new Rng(this.int(0, 0x7fffffff));
  }
}

/**
 * Uniform floats in [0, 1) drawn from `seed`, for code that takes a plain `() => number`. Without a
 * seed (a part started outside a run, e.g. `npm run realtime`) it is Math.random.
 */
export function randomSource(seed: number | undefined): () => number {
  if (seed === undefined) return Math.random;
  const rng = new Rng(seed);
  return () => rng.float();
}

/** A run's seed when the user gives none: the one place a run's randomness is not derived. */
export function randomSeed(): number {
  return Math.floor(Math.random() * 0x7fffffff);
}
