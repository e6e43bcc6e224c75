import type * as Ably from 'ably';
import { limitsSchema, type LimitsInput } from '../../realtime/limits.ts';
import { AttackerThread } from '../../workload/abuse/attacker-thread.ts';
import { roundSteps, type AbuseSpec } from '../../workload/abuse/classes.ts';
import { AttackTally } from '../../workload/abuse/tally.ts';
import type { StackEndpoints } from '../../stack/index.ts';
import type { Actor, ActorContext } from './actor.ts';

export { ATTACK_CLASSES, type AbuseSpec, type AttackClass } from '../../workload/abuse/classes.ts';

export interface AbuseEnv {
  endpoints: Pick<StackEndpoints, 'loginUrl' | 'tokenUrl' | 'realtime' | 'admin' | 'lambda'>;
  realtime: Ably.ClientOptions;
  limits: LimitsInput | undefined;
}

/**
 * Attackers mixed into an honest load (harness/workload/abuse/attackers.ts), run in a worker
 * thread of their own, each attack class on a schedule. Each class is tallied and, once settled,
 * recorded as an `attack` event with its codes and as a `probe` whose verdict the capability
 * checker judges: refused, only with the expected codes, nothing past the limit.
 */
export function abuseActor(ctx: ActorContext, spec: AbuseSpec, env: AbuseEnv): Actor {
  const { endpoints } = env;
  if (!endpoints.loginUrl || !endpoints.tokenUrl || !endpoints.realtime || !endpoints.admin || !endpoints.lambda) {
    throw new Error('the abuse scenario needs the stack it starts itself (login, token, realtime, admin and Lambda endpoints)');
  }
  const rt = endpoints.realtime;
  const { endpoint, region, accessKeyId } = endpoints.lambda;
  const thread = new AttackerThread(
    {
      spec,
      urls: { loginUrl: endpoints.loginUrl, tokenUrl: endpoints.tokenUrl },
      realtime: env.realtime,
      at: { host: String(env.realtime.endpoint ?? rt.host), port: Number(env.realtime.port ?? rt.port) },
      metricsUrl: `http://${rt.host}:${rt.port}/metrics`,
      adminUrl: endpoints.admin.url,
      lambda: { endpoint, region, accessKeyId },
      limits: limitsSchema.parse(env.limits ?? {}),
      runTag: ctx.runTag,
      victim: { room: ctx.rooms[0]!, clientId: `${ctx.runTag}-w0-0` },
    },
    ctx.say,
  );
  let timers: NodeJS.Timeout[] = [];
  return {
    name: 'abuse',
    start() {
      const roundMs = ctx.durationMs / spec.rounds;
      timers = Array.from({ length: spec.rounds }, (_, r) => roundSteps(r)).flatMap((list, r) =>
        list.map((step, k) => setTimeout(() => thread.start(step), r * roundMs + ((k + 0.5) * roundMs) / (list.length + 0.5))),
      );
    },
    stop() {
      for (const t of timers) clearTimeout(t);
    },
    async settle() {
      for (const t of (await thread.settle()).map((s) => AttackTally.restore(s))) {
        ctx.stats.record(t.event(ctx.stats.now()));
        const v = t.verdict;
        ctx.stats.record({ type: 'probe', t: ctx.stats.now(), client: `${ctx.runTag}-x`, action: `attack ${t.attack}: ${t.description}`, expected: 'refused', outcome: v.ok ? 'refused' : 'allowed', error: v.why });
        ctx.say(`attack ${t.attack.padEnd(24)} ${String(t.attempts).padStart(5)} attempts, ${String(t.refused).padStart(5)} refused (${v.why})`);
      }
    },
  };
}
