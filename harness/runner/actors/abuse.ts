import type * as Ably from 'ably';
import { limitsSchema, type LimitsInput } from '../../realtime/limits.ts';
import { forgeLambdaInvokes, pokeAdmin } from '../../workload/abuse/http-attacks.ts';
import { attackerClient, channelHog, floodProtocol, floodRaw, floodSdk, oversizeFrames, slowReader, type RealtimeAttackContext } from '../../workload/abuse/realtime-attacks.ts';
import { AttackerSession } from '../../workload/abuse/session.ts';
import { AttackTally } from '../../workload/abuse/tally.ts';
import type { StackEndpoints } from '../../stack/index.ts';
import type { Actor, ActorContext } from './actor.ts';

/** The attack classes of the abuse scenario and the codes each must be refused with. */
export const ATTACK_CLASSES = {
  'flood-raw': { description: 'raw protocol publishes far past the connection rate, without waiting for acks', codes: ['42911', '42921'] },
  'flood-protocol': { description: 'raw HEARTBEATs past the protocol-message rate', codes: ['42924'] },
  // A fast machine acks quickly enough for the SDK's frames to pass the protocol-message rate first.
  'flood-sdk': { description: 'one SDK client publishing as fast as its acks come back', codes: ['42911', '42921', '42924'] },
  'slow-reader': { description: 'a raw socket that stops reading a busy channel', codes: ['42915', '80020'] },
  'channel-hog': { description: 'one connection attaching more channels than allowed', codes: ['90010'] },
  'oversize-frame': { description: 'a WebSocket frame header announcing 64 MB', codes: ['ws-1009'] },
  'admin-poke': { description: "the realtime admin API with a client's credentials (none, its token) from a foreign origin", codes: ['40101', 'cors-denied'] },
  'lambda-forged-signature': { description: 'chat-writer invoked with the real key id and a wrong signature', codes: ['InvalidSignatureException'] },
  'lambda-unknown-key': { description: 'chat-writer invoked with a key id the endpoint does not know', codes: ['UnrecognizedClientException'] },
} as const;
export type AttackClass = keyof typeof ATTACK_CLASSES;

export interface AbuseSpec {
  /** Each round runs every attack once, spread over its share of the load (the slow reader: first round only). */
  rounds: number;
  /** How long the SDK flooder floods per round. */
  sdkFloodMs: number;
  /** Longest the slow reader's feeder keeps filling the channel before the service must have dropped. */
  slowReaderBudgetMs: number;
}

export interface AbuseEnv {
  endpoints: Pick<StackEndpoints, 'loginUrl' | 'tokenUrl' | 'realtime' | 'admin' | 'lambda'>;
  realtime: Ably.ClientOptions;
  limits: LimitsInput | undefined;
}

const SLOW_READER_FEEDERS = 4;

type Step = (t: Record<AttackClass, AttackTally>) => Promise<void>;

/**
 * Attackers mixed into an honest load: signed-in users of a room of their own (so a flood spends
 * that room's channel rate, as on Ably, not an honest room's) who try every attack class on a
 * schedule. Each class is tallied and, once settled, recorded as an `attack` event with its
 * codes and as a `probe` whose verdict the capability checker judges: refused, only with the
 * expected codes, nothing past the limit.
 */
export function abuseActor(ctx: ActorContext, spec: AbuseSpec, env: AbuseEnv): Actor {
  const { endpoints } = env;
  if (!endpoints.loginUrl || !endpoints.tokenUrl || !endpoints.realtime || !endpoints.admin || !endpoints.lambda) {
    throw new Error('the abuse scenario needs the stack it starts itself (login, token, realtime, admin and Lambda endpoints)');
  }
  const urls = { loginUrl: endpoints.loginUrl, tokenUrl: endpoints.tokenUrl };
  const rt = endpoints.realtime;
  const lambda = endpoints.lambda;
  const admin = endpoints.admin;
  const limits = limitsSchema.parse(env.limits ?? {});
  const room = `${ctx.runTag}-abuse`;
  const tallies = Object.fromEntries(
    Object.entries(ATTACK_CLASSES).map(([k, v]) => [k, new AttackTally(k, v.description, v.codes)]),
  ) as Record<AttackClass, AttackTally>;
  const sessions = new Map<string, Promise<AttackerSession>>();
  const session = (role: string) => {
    let s = sessions.get(role);
    if (!s) sessions.set(role, (s = AttackerSession.signIn(urls, `${ctx.runTag}-x-${role}`)));
    return s;
  };
  // SDK clients for the attacks that use one, connected while the honest users join.
  const prepared = new Map<string, Promise<Ably.Realtime[]>>();
  const prepare = (role: string, n: number) => {
    const p = session(role).then((s) => Array.from({ length: n }, () => attackerClient(env.realtime, s)));
    p.catch(() => {});
    prepared.set(role, p);
  };
  prepare('flood-sdk', spec.rounds);
  prepare('hog', spec.rounds);
  prepare('slow-reader', SLOW_READER_FEEDERS);
  const everyClient: Ably.Realtime[] = [];
  const sdk = async (role: string): Promise<Ably.Realtime> => {
    const ready = (await prepared.get(role)?.catch(() => undefined))?.shift();
    const c = ready ?? attackerClient(env.realtime, await session(role));
    everyClient.push(c);
    return c;
  };
  // Each attacker floods a room of its own: two flooders on one channel would meet its rate (42913) before their own.
  const attackCtx = async (role: string): Promise<RealtimeAttackContext> => ({
    session: await session(role),
    realtime: env.realtime,
    at: { host: String(env.realtime.endpoint ?? rt.host), port: Number(env.realtime.port ?? rt.port) },
    limits,
    room: `${room}-${role}`,
    metricsUrl: `http://${rt.host}:${rt.port}/metrics`,
    sdk: () => sdk(role),
  });
  const victimRoom = ctx.rooms[0]!;
  const steps = (round: number): Array<[AttackClass, Step]> => [
    ['flood-raw', async (t) => floodRaw(await attackCtx('flood-raw'), t['flood-raw'])],
    ['flood-sdk', async (t) => floodSdk(await attackCtx('flood-sdk'), t['flood-sdk'], spec.sdkFloodMs)],
    ...(round === 0 ? ([['slow-reader', async (t) => slowReader(await attackCtx('slow-reader'), t['slow-reader'], spec.slowReaderBudgetMs, SLOW_READER_FEEDERS)]] as Array<[AttackClass, Step]>) : []),
    ['flood-protocol', async (t) => floodProtocol(await attackCtx('flood-protocol'), t['flood-protocol'])],
    ['oversize-frame', async (t) => oversizeFrames(await attackCtx('oversize'), t['oversize-frame'])],
    ['channel-hog', async (t) => channelHog(await attackCtx('hog'), t['channel-hog'])],
    ['admin-poke', async (t) => {
      const s = await session('admin');
      const td = await s.token(env.realtime);
      await pokeAdmin(admin.url, td.token, t['admin-poke']);
    }],
    ['lambda-forged-signature', async (t) => {
      const target = { endpoint: lambda.endpoint, region: lambda.region, accessKeyId: lambda.accessKeyId, functionName: 'chat-writer' };
      // The forged post claims to be an honest writer's, in an honest room: accepted, it would show in their checks.
      await forgeLambdaInvokes(target, { room: victimRoom, victim: `${ctx.runTag}-w0-0` }, t['lambda-forged-signature'], t['lambda-unknown-key']);
    }],
  ];
  const work: Array<Promise<void>> = [];
  let timers: NodeJS.Timeout[] = [];
  return {
    name: 'abuse',
    start() {
      const roundMs = ctx.durationMs / spec.rounds;
      timers = Array.from({ length: spec.rounds }, (_, r) => steps(r)).flatMap((list, r) =>
        list.map(([name, step], k) =>
          setTimeout(() => {
            work.push(step(tallies).catch((err: Error) => {
              tallies[name].note(err.message);
              ctx.say(`attack ${name}: ${err.message}`);
            }));
          }, r * roundMs + ((k + 0.5) * roundMs) / (list.length + 0.5)),
        ),
      );
    },
    stop() {
      for (const t of timers) clearTimeout(t);
    },
    async settle() {
      await Promise.all(work);
      // Prepared clients an attack never took (it failed before) still hold connections.
      for (const p of prepared.values()) for (const c of (await p.catch(() => [])) ?? []) c.close();
      for (const c of everyClient) c.close();
      for (const t of Object.values(tallies)) {
        ctx.stats.record(t.event(ctx.stats.now()));
        const v = t.verdict;
        ctx.stats.record({ type: 'probe', t: ctx.stats.now(), client: `${ctx.runTag}-x`, action: `attack ${t.attack}: ${t.description}`, expected: 'refused', outcome: v.ok ? 'refused' : 'allowed', error: v.why });
        ctx.say(`attack ${t.attack.padEnd(24)} ${String(t.attempts).padStart(5)} attempts, ${String(t.refused).padStart(5)} refused (${v.why})`);
      }
    },
  };
}
