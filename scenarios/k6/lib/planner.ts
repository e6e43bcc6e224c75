/**
 * Chooses a writer's next operation from the workload's mix, as the harness's planner does:
 * edits go to the writer's own acknowledged posts (the chat allows nothing else), skewed toward
 * its first few (hot) messages; deletes spare the hot ones so the storm keeps something to edit.
 * Seeded, so a run's operation sequence is reproducible per writer.
 */
import type { Mix } from './workloads.ts';

export type OpKind = 'post' | 'edit' | 'delete' | 'typing';

export type PlannedOp =
  | { kind: 'post' }
  | { kind: 'edit'; target: string }
  | { kind: 'delete'; target: string }
  | { kind: 'typing' };

/** mulberry32: tiny, fast, and identical in k6 and Node. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A 32-bit FNV-1a hash, to derive each writer's seed from the run's seed and its name. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

const WORDS = ['edit', 'storm', 'hello', 'again', 'fixed', 'typo', 'ship', 'it', 'now', 'later', 'maybe', 'ok'];

export class Planner {
  /** Acknowledged own posts, oldest first (the first `hot.perUser` live ones are hot). */
  readonly ownPosts: string[] = [];
  readonly deleted = new Set<string>();
  private readonly random: () => number;

  constructor(
    private readonly mix: Mix,
    private readonly hot: { perUser: number; skew: number },
    seed: number,
  ) {
    this.random = rng(seed);
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)] as T;
  }

  private kind(): OpKind {
    const kinds: OpKind[] = ['post', 'edit', 'delete', 'typing'];
    const total = kinds.reduce((a, k) => a + this.mix[k], 0);
    let r = this.random() * total;
    for (const k of kinds) {
      r -= this.mix[k];
      if (r < 0) return k;
    }
    return 'post';
  }

  next(): PlannedOp {
    const kind = this.kind();
    const live = this.ownPosts.filter((id) => !this.deleted.has(id));
    if (kind === 'edit' && live.length > 0) {
      const hot = live.slice(0, this.hot.perUser);
      const target = hot.length > 0 && this.random() < this.hot.skew ? this.pick(hot) : this.pick(live);
      return { kind: 'edit', target };
    }
    if (kind === 'delete') {
      const cold = live.slice(this.hot.perUser);
      if (cold.length > 0) {
        const target = this.pick(cold);
        this.deleted.add(target);
        return { kind: 'delete', target };
      }
    }
    if (kind === 'typing') return { kind: 'typing' };
    return { kind: 'post' };
  }

  words(): string {
    const n = 1 + Math.floor(this.random() * 8);
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(this.pick(WORDS));
    return out.join(' ');
  }
}
