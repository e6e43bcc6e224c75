import { describe, expect, it } from 'vitest';
import { Rng } from '../lib/rng.ts';
import { OperationPlanner, type PlannedPost } from './planner.ts';
import type { ChatUser } from './user.ts';

/** A user that only logs what it was asked to publish. */
function fakeUser(clientId: string, log: string[]): ChatUser {
  const ownPosts: string[] = [];
  return {
    clientId,
    room: 'r',
    ownPosts,
    deleted: new Set(),
    isJoined: true,
    continuityLosses: 0,
    catchUpErrors: [],
    join: async () => {},
    leave: async () => {},
    post: async (opId) => (log.push(`post ${opId}`), ownPosts.push(opId), true),
    edit: async (opId, target) => void log.push(`edit ${opId} of ${target}`),
    delete: async (opId, target) => void log.push(`delete ${opId} of ${target}`),
    typing: async () => {},
    settled: async () => {},
    recordView: () => {},
  };
}

describe('OperationPlanner', () => {
  it('hands each post to beforePost with the id it will carry, and publishes it only once that resolved', async () => {
    const log: string[] = [];
    const seen: PlannedPost[] = [];
    const user = fakeUser('u', log);
    const planner = new OperationPlanner([user], new Rng(1), {
      mix: { post: 1, edit: 0, delete: 0, typing: 0 },
      hot: { perUser: 1, skew: 0 },
      runTag: 't',
      beforePost: async (p) => {
        seen.push(p);
        // What an attacker sends here must go out before the post.
        await Promise.resolve();
        log.push(`attack on ${p.id}`);
      },
    });
    for (let i = 0; i < 3; i++) await planner.next(0).run();
    expect(seen.map((p) => p.author)).toEqual([user, user, user]);
    expect(log).toEqual(seen.flatMap((p) => [`attack on ${p.id}`, `post ${p.id}`]));
    expect(user.ownPosts).toEqual(seen.map((p) => p.id));
  });
});
