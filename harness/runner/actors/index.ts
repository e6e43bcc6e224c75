/**
 * The actors a scenario's definition calls for. The load comes first (its writers are the peers
 * hostile clients target); the others in the order their work is settled after the load: churn
 * before the nemesis (as returning readers rejoin), attacks, then the memory sampler.
 */
import type * as Ably from 'ably';
import type { FaultSpec } from '../../faults/spec.ts';
import type { FaultTargets, SystemUnderTest } from '../../stack/index.ts';
import type { ScenarioDefinition, ScenarioOptions } from '../scenario.ts';
import type { Actor, ActorContext } from './actor.ts';
import { abuseActor } from './abuse.ts';
import { churnActor } from './churn.ts';
import { hostileActor } from './hostile.ts';
import { lateJoinActor } from './late-join.ts';
import { LoadActor } from './load.ts';
import { nemesisActor } from './nemesis.ts';
import { quietJoinActor } from './quiet-join.ts';
import { resourcesActor } from './resources.ts';

export { inBatches, type Actor, type ActorContext } from './actor.ts';
export { LoadActor } from './load.ts';

export interface RunActors {
  load: LoadActor;
  /** Every other behaviour, in settle order. */
  others: Actor[];
  faultErrors: string[];
}

export function actorsFor(
  ctx: ActorContext,
  sc: ScenarioDefinition,
  o: ScenarioOptions,
  env: { sut: SystemUnderTest; targets: FaultTargets; realtime: Ably.ClientOptions; faults: readonly FaultSpec[] },
): RunActors {
  const load = new LoadActor(ctx, sc, sc.executor(o), { users: o.users, readers: o.readers });
  const nemesis = nemesisActor(ctx, env.faults, env.targets, o.seed);
  const others: Actor[] = [
    ...(sc.lateJoin ? [lateJoinActor(ctx, sc.lateJoin)] : []),
    ...(sc.quietJoin ? [quietJoinActor(ctx, sc.quietJoin)] : []),
    ...(sc.churn ? [churnActor(ctx, sc.churn, load.readers)] : []),
    nemesis,
    ...(sc.hostile ? [hostileActor(ctx, sc.hostile, load, env.realtime)] : []),
    ...(sc.abuse ? [abuseActor(ctx, sc.abuse, { endpoints: env.sut.endpoints, realtime: env.realtime, limits: sc.stack?.realtimeLimits })] : []),
    // Last, so its samples cover the other actors' settling too.
    ...(sc.sampleResources ? [resourcesActor(ctx, () => env.sut.processes?.() ?? [])] : []),
  ];
  return { load, others, faultErrors: nemesis.errors };
}
