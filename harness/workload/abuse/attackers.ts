/**
 * The abuse scenario's attackers: signed-in users of rooms of their own (so a flood spends that
 * room's channel rate, as on Ably, not an honest room's) who carry out one attack class per step.
 * Runs in a worker thread of its own (attacker-thread.ts), so the attackers' clients never share
 * a thread with the honest users' clocks or the run's scheduler.
 */
import type * as Ably from 'ably';
import type { Limits } from '../../realtime/limits.ts';
import { ATTACK_CLASSES, type AbuseSpec, type AttackClass } from './classes.ts';
import { forgeLambdaInvokes, pokeAdmin } from './http-attacks.ts';
import { attackerClient, channelHog, floodProtocol, floodRaw, floodSdk, oversizeFrames, slowReader, type RealtimeAttackContext } from './realtime-attacks.ts';
import type { RealtimeAddress } from './raw-socket.ts';
import { AttackerSession, type ChatUrls } from './session.ts';
import { AttackTally, type TallySnapshot } from './tally.ts';

/** Everything the attackers need, as plain data (it crosses into their worker thread). */
export interface AttackersInit {
  spec: AbuseSpec;
  urls: ChatUrls;
  realtime: Ably.ClientOptions;
  at: RealtimeAddress;
  metricsUrl: string;
  adminUrl: string;
  lambda: { endpoint: string; region: string; accessKeyId: string };
  limits: Limits;
  runTag: string;
  /** An honest room and writer a forged Lambda invoke claims to post as. */
  victim: { room: string; clientId: string };
}

const SLOW_READER_FEEDERS = 4;

export class Attackers {
  private readonly tallies: Record<AttackClass, AttackTally>;
  private readonly sessions = new Map<string, Promise<AttackerSession>>();
  private readonly prepared = new Map<string, Promise<Ably.Realtime[]>>();
  private readonly clients: Ably.Realtime[] = [];
  private readonly work: Array<Promise<void>> = [];

  constructor(private readonly init: AttackersInit, private readonly say: (line: string) => void) {
    this.tallies = Object.fromEntries(
      Object.entries(ATTACK_CLASSES).map(([k, v]) => [k, new AttackTally(k, v.description, v.codes)]),
    ) as Record<AttackClass, AttackTally>;
    // SDK clients for the attacks that use one, connected while the honest users join: on a busy
    // machine a connect in the middle of the load can take longer than the attack has.
    this.prepare('flood-sdk', init.spec.rounds);
    this.prepare('hog', init.spec.rounds);
    this.prepare('slow-reader', SLOW_READER_FEEDERS);
  }

  /** Starts one attack; its outcome lands in its tally. */
  start(step: AttackClass): void {
    this.work.push(
      this.run(step).catch((err: Error) => {
        this.tallies[step].note(err.message);
        this.say(`attack ${step}: ${err.message}`);
      }),
    );
  }

  /** Waits for every attack under way, closes every client, and hands back the tallies. */
  async settle(): Promise<TallySnapshot[]> {
    await Promise.all(this.work);
    // Prepared clients an attack never took (it failed before) still hold connections.
    for (const p of this.prepared.values()) for (const c of (await p.catch(() => [])) ?? []) c.close();
    for (const c of this.clients) c.close();
    return Object.values(this.tallies).map((t) => t.snapshot());
  }

  private session(role: string): Promise<AttackerSession> {
    let s = this.sessions.get(role);
    if (!s) this.sessions.set(role, (s = AttackerSession.signIn(this.init.urls, `${this.init.runTag}-x-${role}`)));
    return s;
  }

  private prepare(role: string, n: number): void {
    const p = this.session(role).then((s) => Array.from({ length: n }, () => attackerClient(this.init.realtime, s)));
    p.catch(() => {});
    this.prepared.set(role, p);
  }

  private async sdk(role: string): Promise<Ably.Realtime> {
    const ready = (await this.prepared.get(role)?.catch(() => undefined))?.shift();
    const c = ready ?? attackerClient(this.init.realtime, await this.session(role));
    this.clients.push(c);
    return c;
  }

  // Each attacker floods a room of its own: two flooders on one channel would meet its rate (42913) before their own.
  private async ctx(role: string): Promise<RealtimeAttackContext> {
    const { realtime, at, limits, runTag, metricsUrl } = this.init;
    return { session: await this.session(role), realtime, at, limits, room: `${runTag}-abuse-${role}`, metricsUrl, sdk: () => this.sdk(role) };
  }

  private async run(step: AttackClass): Promise<void> {
    const t = this.tallies;
    const { spec, adminUrl, lambda, victim } = this.init;
    switch (step) {
      case 'flood-raw':
        return floodRaw(await this.ctx('flood-raw'), t[step]);
      case 'flood-sdk':
        return floodSdk(await this.ctx('flood-sdk'), t[step], spec.sdkFloodMs);
      case 'slow-reader':
        return slowReader(await this.ctx('slow-reader'), t[step], spec.slowReaderBudgetMs, SLOW_READER_FEEDERS);
      case 'flood-protocol':
        return floodProtocol(await this.ctx('flood-protocol'), t[step]);
      case 'oversize-frame':
        return oversizeFrames(await this.ctx('oversize'), t[step]);
      case 'channel-hog':
        return channelHog(await this.ctx('hog'), t[step]);
      case 'admin-poke': {
        const td = await (await this.session('admin')).token(this.init.realtime);
        return pokeAdmin(adminUrl, td.token, t[step]);
      }
      case 'lambda-forged-signature':
      case 'lambda-unknown-key':
        // The forged post claims to be an honest writer's, in an honest room: accepted, it would show in their checks.
        return forgeLambdaInvokes({ ...lambda, functionName: 'chat-writer' }, { room: victim.room, victim: victim.clientId }, t['lambda-forged-signature'], t['lambda-unknown-key']);
    }
  }
}
