import type * as Ably from 'ably';
import type { FinalState } from '../../history/types.ts';
import { ATTACKS, HostileClient } from '../../workload/hostile.ts';
import type { ChatUser } from '../../workload/user.ts';
import type { ScenarioDefinition } from '../scenario.ts';
import type { Actor, ActorContext } from './actor.ts';

const FOREIGN_TARGETS = ['fresh', 'stale', 'other-room'] as const;

/** Clients that try what they must not, spread over the load; judged against the final database state. */
export function hostileActor(
  ctx: ActorContext,
  spec: NonNullable<ScenarioDefinition['hostile']>,
  writers: readonly ChatUser[],
  realtime: Ably.ClientOptions,
): Actor {
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
  return {
    name: 'hostile',
    users: clients.map((h) => h.vu),
    start() {
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
    },
    settle: async () => void (await Promise.all(attacks)),
    judge(final: FinalState) {
      for (const h of clients) h.settle(final);
    },
  };
}
