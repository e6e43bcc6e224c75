import { Nemesis } from '../../faults/nemesis.ts';
import type { FaultSpec } from '../../faults/spec.ts';
import type { FaultTargets } from '../../stack/index.ts';
import type { Actor, ActorContext } from './actor.ts';

/** The scheduled faults; `errors` lists those that could not be injected or undone. */
export function nemesisActor(ctx: ActorContext, faults: readonly FaultSpec[], targets: FaultTargets, seed: number): Actor & { readonly errors: string[] } {
  const nemesis = new Nemesis(faults, targets, ctx.stats, seed);
  return {
    name: 'nemesis',
    errors: nemesis.errors,
    start: () => nemesis.start(),
    // Faults whose time has not come are cancelled by `settle`, which also waits for the others to end.
    stop() {},
    async settle() {
      if (faults.length) ctx.say('load done; waiting for faults to end');
      await nemesis.settle();
      for (const e of nemesis.errors) ctx.say(`fault error: ${e}`);
    },
  };
}
