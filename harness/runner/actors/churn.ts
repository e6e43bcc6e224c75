import type { ChatUser } from '../../workload/user.ts';
import type { ScenarioDefinition } from '../scenario.ts';
import type { Actor, ActorContext } from './actor.ts';

/**
 * Churn: a reader leaves (closing its client, like a closed tab) and comes back as a new session
 * that loads history and merges live events, like a reloaded page.
 */
export function churnActor(ctx: ActorContext, spec: NonNullable<ScenarioDefinition['churn']>, readers: readonly ChatUser[]): Actor {
  const work: Array<Promise<void>> = [];
  let round = 0;
  let timer: NodeJS.Timeout | undefined;
  const once = () => {
    const r = round++;
    for (const room of ctx.rooms) {
      const present = [...readers, ...ctx.late].filter((u) => u.room === room && !ctx.gone.has(u) && u.isJoined);
      const leaver = present[r % Math.max(1, present.length)];
      if (!leaver) continue;
      ctx.gone.add(leaver);
      work.push(
        leaver
          .leave({ asOperation: true })
          .then(() => new Promise((res) => setTimeout(res, spec.awayMs)))
          .then(async () => {
            const back = ctx.users.user(`${leaver.clientId.replace(/-re\d+$/, '')}-re${r}`, room, { late: true });
            ctx.late.push(back);
            await back.join();
          })
          .catch((err: Error) => ctx.say(`churn in ${room}: ${err.message}`)),
      );
    }
  };
  return {
    name: 'churn',
    start() {
      timer = setInterval(once, spec.everyMs);
    },
    stop() {
      if (timer) clearInterval(timer);
    },
    settle: async () => void (await Promise.all(work)),
  };
}
