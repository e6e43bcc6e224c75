/**
 * A joiner into a quiet room: one writer posts, edits and deletes in a room of its own, waits
 * until it has received every change back (so all of it committed), and then a new user joins
 * and reads the room's history in small pages. Nothing arrives live while it reads, so a row the
 * history leaves out cannot be masked by a live event, and its read spans several page
 * boundaries for the history-pages checker.
 */
import type { ScenarioDefinition } from '../scenario.ts';
import type { Actor, ActorContext } from './actor.ts';
import type { VirtualUser } from '../../workload/virtual-user.ts';

const SETTLE_MS = 60_000;

/** Resolves when `done()` holds; the view offers no change event to await, so a short poll, bounded. */
async function until(done: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + SETTLE_MS;
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`quiet room: ${what} not seen within ${SETTLE_MS / 1000} s`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export function quietJoinActor(ctx: ActorContext, spec: NonNullable<ScenarioDefinition['quietJoin']>): Actor {
  const room = `${ctx.runTag}-quiet`;
  ctx.quietRooms.push(room);
  let work: Promise<void> | undefined;

  async function run(): Promise<void> {
    const writer: VirtualUser = ctx.users.local(`${ctx.runTag}-qw`, room, true);
    ctx.late.push(writer);
    await writer.join();
    const ids: string[] = [];
    for (let i = 0; i < spec.posts; i++) {
      const id = `${room}-p${i}`;
      if (await writer.post(id, `quiet post ${i}`)) ids.push(id);
    }
    // An edit of the oldest and of the newest row, and a delete in the middle, so pages hold versions and a hole.
    const edited = [ids[0], ids[ids.length - 1]].filter((x): x is string => x !== undefined);
    for (const [k, target] of edited.entries()) await writer.edit(`${room}-e${k}`, target, `quiet edit ${k}`);
    const gone = ids[Math.floor(ids.length / 2)];
    if (gone) await writer.delete(`${room}-d0`, gone);
    await until(() => ids.every((id) => writer.view.get(id) !== undefined || id === gone), 'every post');
    await until(() => edited.every((id) => (writer.view.get(id)?.version ?? 0) >= 2), 'both edits');
    await until(() => gone === undefined || writer.view.get(gone)?.deleted !== false, 'the delete');
    const joiner = ctx.users.local(`${ctx.runTag}-qj`, room, true, { historyPageLimit: spec.pageLimit });
    ctx.late.push(joiner);
    await joiner.join();
    ctx.say(`quiet room ${room}: ${ids.length} posts, a joiner read them back in pages of ${spec.pageLimit}`);
  }

  return {
    name: 'quiet-join',
    start() {
      work = run().catch((err: unknown) => ctx.say(`quiet-join failed: ${(err as Error).message}`));
    },
    stop() {},
    settle: async () => {
      await work;
    },
  };
}
