/**
 * Chooses each arrival's operation and user from the scenario's mix, with edits skewed toward a
 * few hot messages per user (own messages only: the chat allows nothing else).
 * Every operation id is unique in the run and is also the realtime message id; every text
 * contains its operation id, so the checkers can tell which operation produced what they see.
 */
import type { OpKind } from '../history/types.ts';
import type { Arrival } from './executors.ts';
import type { Rng } from '../lib/rng.ts';
import type { ChatUser } from './user.ts';

export interface PlannerOptions {
  mix: Record<'post' | 'edit' | 'delete' | 'typing', number>;
  hot: { perUser: number; skew: number };
  /** Makes ids unique across runs sharing a database. */
  runTag: string;
  /**
   * Awaited before each post is published, with the id it will carry: what an attacker who can
   * guess ids knows. The post waits for it, so what it sends goes first.
   */
  beforePost?: (post: PlannedPost) => Promise<void>;
}

/** A post about to be published: its message id and its author. */
export interface PlannedPost {
  id: string;
  author: ChatUser;
}

const WORDS = ['edit', 'storm', 'hello', 'again', 'fixed', 'typo', 'ship', 'it', 'now', 'later', 'maybe', 'ok'];

export class OperationPlanner {
  private seq = 0;

  constructor(
    private readonly writers: readonly ChatUser[],
    private readonly rng: Rng,
    private readonly opts: PlannerOptions,
  ) {
    if (writers.length === 0) throw new Error('a workload needs at least one publishing user');
  }

  private opId(vu: ChatUser): string {
    return `${this.opts.runTag}-${vu.clientId}-${++this.seq}`;
  }

  private text(opId: string): string {
    const n = this.rng.int(1, 8);
    const words = Array.from({ length: n }, () => this.rng.pick(WORDS));
    return `${opId} ${words.join(' ')}`;
  }

  next(vuIndex?: number): Arrival {
    const vu = vuIndex === undefined ? this.rng.pick(this.writers) : this.writers[vuIndex % this.writers.length]!;
    const kind: OpKind = this.rng.weighted(this.opts.mix);
    const live = vu.ownPosts.filter((id) => !vu.deleted.has(id));
    if (kind === 'edit' && live.length > 0) {
      const hot = live.slice(0, this.opts.hot.perUser);
      const target = hot.length > 0 && this.rng.chance(this.opts.hot.skew) ? this.rng.pick(hot) : this.rng.pick(live);
      const opId = this.opId(vu);
      const text = this.text(opId);
      return { op: 'edit', run: () => vu.edit(opId, target, text) };
    }
    if (kind === 'delete') {
      // Keep the hot messages alive so the storm has something to edit.
      const cold = live.slice(this.opts.hot.perUser);
      if (cold.length > 0) {
        const target = this.rng.pick(cold);
        const opId = this.opId(vu);
        vu.deleted.add(target);
        return { op: 'delete', run: () => vu.delete(opId, target) };
      }
    }
    if (kind === 'typing') {
      const opId = this.opId(vu);
      return { op: 'typing', run: () => vu.typing(opId) };
    }
    const opId = this.opId(vu);
    const text = this.text(opId);
    const before = this.opts.beforePost;
    if (before) return { op: 'post', run: async () => void (await before({ id: opId, author: vu }), await vu.post(opId, text)) };
    return { op: 'post', run: async () => void (await vu.post(opId, text)) };
  }
}
