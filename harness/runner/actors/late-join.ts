import type { ScenarioDefinition } from '../scenario.ts';
import { inBatches, type Actor, type ActorContext } from './actor.ts';

/** Users who join mid-load, all at once at a fraction of the run. */
export function lateJoinActor(ctx: ActorContext, spec: NonNullable<ScenarioDefinition['lateJoin']>): Actor {
  let timer: NodeJS.Timeout | undefined;
  return {
    name: 'late-join',
    start() {
      timer = setTimeout(() => {
        const joiners = ctx.rooms.flatMap((room, r) => Array.from({ length: spec.perRoom }, (_, u) => ctx.users.user(`${ctx.runTag}-l${r}-${u}`, room, { late: true })));
        ctx.late.push(...joiners);
        void inBatches(joiners, 10, (u) => u.join()).catch(() => {});
      }, ctx.durationMs * spec.atFraction);
    },
    stop() {
      if (timer) clearTimeout(timer);
    },
    settle: async () => {},
  };
}
