import type * as Ably from 'ably';
import type { FinalState } from '../../history/types.ts';
import { ATTACKS, HostileClient } from '../../workload/hostile.ts';
import type { PlannedPost } from '../../workload/planner.ts';
import type { ScenarioDefinition } from '../scenario.ts';
import type { Actor, ActorContext } from './actor.ts';
import type { LoadActor } from './load.ts';

const FOREIGN_TARGETS = ['fresh', 'stale', 'other-room'] as const;
/** How long a post waits for the predicted attack on it to be acknowledged before it goes anyway. */
const PREDICTED_WAIT_MS = 1_000;

/** Clients that try what they must not, spread over the load; judged against the final database state. */
export function hostileActor(
  ctx: ActorContext,
  spec: NonNullable<ScenarioDefinition['hostile']>,
  load: Pick<LoadActor, 'writers' | 'interceptPosts'>,
  realtime: Ably.ClientOptions,
): Actor {
  const writers = load.writers;
  const clients = ctx.rooms.flatMap((room, r) =>
    Array.from({ length: spec.perRoom }, (_, i) => {
      const vu = ctx.users.local(`${ctx.runTag}-h${r}-${i}`, room);
      const peers = writers.filter((w) => w.room === room);
      const strangers = writers.filter((w) => w.room !== room);
      return new HostileClient(vu, { recorder: ctx.stats, rng: ctx.rng.fork(), realtime, peers, strangers, runTag: ctx.runTag });
    }),
  );
  const attacks: Array<Promise<void>> = [];
  let timers: NodeJS.Timeout[] = [];
  const predicted = predictedWrites(ctx, clients, spec.predictedWritesPerClient ?? 0, attacks);
  if (predicted) load.interceptPosts(predicted.beforePost);
  return {
    name: 'hostile',
    users: clients.map((h) => h.vu),
    start() {
      predicted?.start();
      timers = clients.flatMap((h, i) =>
        Array.from({ length: spec.attacksPerClient }, (_, k) =>
          setTimeout(() => {
            const kind = ATTACKS[(i + k) % ATTACKS.length]!;
            attacks.push(h.attack(kind).catch((err: Error) => ctx.say(`hostile ${h.vu.clientId} ${kind}: ${err.message}`)));
          }, ((k + 1) * ctx.durationMs) / (spec.attacksPerClient + 1)),
        ),
      );
      // Edits and deletes of others' posts: just acknowledged (the held path), older, and in other rooms.
      const foreign = spec.foreignWritesPerClient ?? 0;
      timers.push(
        ...clients.flatMap((h, i) =>
          Array.from({ length: foreign }, (_, k) =>
            setTimeout(() => {
              const target = FOREIGN_TARGETS[(i + k) % FOREIGN_TARGETS.length]!;
              const op = k % 4 === 3 ? 'delete' : 'edit';
              attacks.push(h.foreignWrite(target, op).catch((err: Error) => ctx.say(`hostile ${h.vu.clientId} ${target} ${op}: ${err.message}`)));
            }, ((k + 1) * ctx.durationMs) / (foreign + 1)),
          ),
        ),
      );
    },
    stop() {
      for (const t of timers) clearTimeout(t);
      predicted?.stop();
    },
    settle: async () => void (await Promise.all(attacks)),
    judge(final: FinalState) {
      for (const h of clients) h.settle(final);
    },
  };
}

/**
 * Edits and deletes sent for a post's id before the post itself is published, `perClient` per
 * hostile client spread evenly over the run: the earliest post of the client's room once each
 * slot is due. The post waits for the attack's acknowledgement, so the attack usually reaches
 * the writer first and is held there until the post arrives.
 */
function predictedWrites(ctx: ActorContext, clients: readonly HostileClient[], perClient: number, attacks: Array<Promise<void>>) {
  if (perClient <= 0) return undefined;
  const sent = new Map<HostileClient, number>(clients.map((h) => [h, 0]));
  let t0: number | undefined;
  const due = (k: number) => t0 !== undefined && performance.now() - t0 >= ((k + 1) * ctx.durationMs) / (perClient + 1);
  return {
    start: () => void (t0 = performance.now()),
    stop: () => void (t0 = undefined),
    beforePost: async (post: PlannedPost): Promise<void> => {
      const h = clients.find((c) => c.vu.room === post.author.room);
      const k = h ? sent.get(h)! : perClient;
      if (!h || k >= perClient || !due(k)) return;
      sent.set(h, k + 1);
      const op = k % 3 === 2 ? 'delete' : 'edit';
      const attack = h.predictedWrite(post.id, op).catch((err: Error) => ctx.say(`hostile ${h.vu.clientId} predicted ${op}: ${err.message}`));
      attacks.push(attack);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([attack, new Promise<void>((r) => (timer = setTimeout(r, PREDICTED_WAIT_MS)))]);
      clearTimeout(timer);
    },
  };
}
