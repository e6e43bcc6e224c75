/**
 * Attacks on the realtime service by a signed-in user, each tallied with the codes Ably answers
 * with (see harness/realtime/limits.ts): publish floods (42911 NACK, 42921 close), a protocol
 * flood (42924 close), a slow reader (42915 drops, 80020 continuity loss), a channel hog (90010)
 * and a frame larger than the service accepts (WebSocket close 1009 from the header).
 */
import * as Ably from 'ably';
import { channelName, MESSAGE_NAMES } from '../../../reference-app/contract/index.ts';
import type { Limits } from '../../realtime/limits.ts';
import { Action, oversizeFrame, RawConnection, withTimeout, type RealtimeAddress } from './raw-socket.ts';
import type { AttackerSession } from './session.ts';
import { beyondRate, type AttackTally } from './tally.ts';

export interface RealtimeAttackContext {
  session: AttackerSession;
  /** The SDK's client options for the service (no auth). */
  realtime: Ably.ClientOptions;
  at: RealtimeAddress;
  limits: Limits;
  /** The attackers' own room: a flood there spends its channel's rate, not an honest room's. */
  room: string;
  /** The service's Prometheus endpoint (how the slow reader learns the service dropped frames for it). */
  metricsUrl: string;
  /**
   * An SDK client of this attacker, connected (or connecting) before the load where the actor
   * could prepare one: on a busy machine a connect in the middle of the load can take longer than
   * the attack has. The attack closes it.
   */
  sdk(): Promise<Ably.Realtime>;
}

export function attackerClient(realtime: Ably.ClientOptions, session: AttackerSession): Ably.Realtime {
  return new Ably.Realtime({ ...realtime, ...session.auth(), clientId: session.clientId, echoMessages: false, logLevel: 0 });
}

function connected(c: Ably.Realtime, what: string): Promise<unknown> {
  return c.connection.state === 'connected' ? Promise.resolve() : withTimeout(c.connection.once('connected'), CONNECT_MS, what);
}

/** A loaded machine can take seconds to connect; an attack that cannot connect is not attempted, not passed. */
const CONNECT_MS = 20_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function rawConnection(ctx: RealtimeAttackContext): Promise<RawConnection> {
  const td = await ctx.session.token(ctx.realtime);
  return RawConnection.open(ctx.at, td.token, CONNECT_MS);
}

/**
 * A burst of publishes on the outgoing channel, without waiting for acks, `perFrame` messages to
 * a protocol message (Ably counts messages, not frames). Enough that one wall-clock second holds
 * more than 20x the rate however the burst straddles a second's edge, so the service must close
 * the connection (42921) after NACKing (42911).
 */
export async function floodRaw(ctx: RealtimeAttackContext, tally: AttackTally, perFrame = 10): Promise<void> {
  const fatal = ctx.limits.connectionInboundRate * ctx.limits.fatalInboundFactor;
  const frames = Math.ceil((2 * fatal + 100) / perFrame);
  const c = await rawConnection(ctx);
  const channel = channelName(ctx.room, 'outgoing');
  const started = Date.now();
  for (let i = 0; i < frames; i++) {
    const messages = Array.from({ length: perFrame }, (_, k) => ({ name: MESSAGE_NAMES.post, data: JSON.stringify({ text: `flood ${i}.${k}` }), encoding: 'json' }));
    c.send({ action: Action.MESSAGE, channel, msgSerial: i, messages });
  }
  tally.attempts += frames * perFrame;
  await settleRaw(c, () => c.acked + sum(c.nacks) >= frames, 20_000);
  // One ACK or NACK answers a whole protocol message.
  const nacked = sum(c.nacks);
  for (const [code, n] of c.nacks) tally.refuse(code, n * perFrame);
  // What the closed connection never answered was refused by the close itself.
  const fatalCode = c.errors.find((e) => e === 42921 || e === 42924);
  if (fatalCode !== undefined) tally.refuse(fatalCode, Math.max(0, frames - c.acked - nacked) * perFrame);
  else if (c.acked + nacked < frames) tally.note(`${frames - c.acked - nacked} protocol messages unanswered without an error`);
  const accepted = c.acked * perFrame;
  tally.accept(accepted, beyondRate(accepted, ctx.limits.connectionInboundRate, started, Date.now()));
  c.close();
}

/**
 * HEARTBEATs, the cheapest protocol message, streamed at four times the protocol-message rate
 * until the service closes the connection (42924) or `maxMs` passed. Streamed rather than one
 * burst: a busy service reads more slowly than a client writes, and only what it reads within one
 * second counts against the limit. Paced, so a slow service is not buried under a backlog that
 * would cost the honest users more than the attack needs.
 */
export async function floodProtocol(ctx: RealtimeAttackContext, tally: AttackTally, maxMs = 5_000): Promise<void> {
  const c = await rawConnection(ctx);
  const started = Date.now();
  const perTick = Math.ceil((ctx.limits.protocolMessageRate * 4) / 20);
  let sent = 0;
  let closed = false;
  void c.closed.then(() => (closed = true));
  while (!closed && c.open && Date.now() - started < maxMs) {
    for (let i = 0; i < perTick; i++, sent++) c.send({ action: Action.HEARTBEAT });
    await sleep(50);
  }
  tally.attempts += sent;
  await settleRaw(c, () => c.heartbeats >= sent, 5_000);
  const answered = c.heartbeats;
  if (c.errors.includes(42924)) tally.refuse(42924, sent - answered);
  else {
    for (const e of c.errors) tally.refuse(e, 1);
    const secs = (Date.now() - started) / 1000;
    tally.note(`the service answered ${answered} of ${sent} heartbeats in ${secs.toFixed(1)} s (${(answered / secs).toFixed(0)}/s, limit ${ctx.limits.protocolMessageRate}/s): it never read fast enough to reach its limit`);
  }
  tally.accept(answered, beyondRate(answered, ctx.limits.protocolMessageRate, started, Date.now()));
  c.close();
}

/**
 * One SDK client publishing as fast as its acknowledgements come back, `inFlight` publishes at a
 * time (as an app firing publishes without awaiting each would), for `durationMs` or until the
 * service closes it.
 */
export async function floodSdk(ctx: RealtimeAttackContext, tally: AttackTally, durationMs: number, inFlight = 100): Promise<void> {
  const client = await ctx.sdk();
  try {
    await connected(client, 'SDK flooder connect');
    const ch = client.channels.get(channelName(ctx.room, 'outgoing'));
    const started = Date.now();
    let acked = 0;
    // On a busy machine acks come slowly, and 1-2 s of lanes may stay under the rate: the flood
    // goes on (up to 4x its time) until the limit has answered once, as a real flooder would.
    const going = () => {
      const t = Date.now() - started;
      return t < durationMs || (refusedBefore === tally.refused && t < durationMs * 4);
    };
    const refusedBefore = tally.refused;
    const lane = async () => {
      while (going() && client.connection.state === 'connected') {
        tally.attempts++;
        try {
          await ch.publish(MESSAGE_NAMES.post, { text: `sdk flood ${tally.attempts}` });
          acked++;
        } catch (err) {
          tally.refuse((err as Ably.ErrorInfo).code ?? 'no-code');
        }
      }
    };
    await Promise.all(Array.from({ length: inFlight }, lane));
    tally.accept(acked, beyondRate(acked, ctx.limits.connectionInboundRate, started, Date.now()));
  } finally {
    client.close();
  }
}

/**
 * A raw connection attaches a typing channel of the attackers' room and stops reading, while
 * `feeders` other connections of the same user fill that channel with large messages (each under
 * every rate limit). The service must stop queueing for the reader at its cap: it drops (42915,
 * counted in its metrics) and, once the reader reads again, tells it the channel lost continuity
 * (80020). Several feeders, together at 80% of the channel's rate (Ably: 50/s), so the kernel's
 * socket buffers fill in seconds.
 */
export async function slowReader(ctx: RealtimeAttackContext, tally: AttackTally, budgetMs: number, feeders = 4): Promise<void> {
  const channel = channelName(`${ctx.room}-slow`, 'typing');
  const reader = await rawConnection(ctx);
  const clients = await Promise.all(Array.from({ length: feeders }, () => ctx.sdk()));
  try {
    await reader.attach(channel, CONNECT_MS);
    await Promise.all(clients.map((c) => connected(c, 'slow reader feeders connect')));
    const chs = clients.map((c) => c.channels.get(channel));
    const droppedBefore = await outboundDropped(ctx.metricsUrl);
    reader.pause();
    const payload = 'x'.repeat(Math.min(60_000, Math.floor(ctx.limits.maxQueuedBytes / 16)));
    const started = Date.now();
    let dropped = 0;
    // Under the per-connection and per-channel rates, so no feeder is ever refused.
    const perSecond = Math.max(1, Math.floor(Math.min(ctx.limits.connectionInboundRate, ctx.limits.channelInboundRate / feeders) * 0.8));
    while (Date.now() - started < budgetMs && dropped === 0) {
      const second = Date.now();
      const batch = chs.flatMap((ch) => Array.from({ length: perSecond }, () => ch.publish(MESSAGE_NAMES.typing, payload)));
      tally.attempts += batch.length;
      await Promise.allSettled(batch);
      // One batch per second of the wall clock: at a channel's 50/s, slow acks must not slow the feed further.
      await sleep(Math.max(0, 1000 - (Date.now() - second)));
      dropped = (await outboundDropped(ctx.metricsUrl)) - droppedBefore;
    }
    reader.resume();
    // The continuity loss comes once the socket has drained; a small message nudges the service to say it.
    const loss = reader.until((f) => f.action === Action.ATTACHED && f.channel === channel && f.error !== undefined);
    const nudges = setInterval(() => void chs[0]!.publish(MESSAGE_NAMES.typing, 'nudge').catch(() => {}), 500);
    try {
      const f = await withTimeout(loss, 15_000, 'continuity loss after the slow reader drained').catch((err: Error) => (tally.note(err.message), undefined));
      if (f?.error) tally.refuse(f.error.code);
    } finally {
      clearInterval(nudges);
    }
    dropped = (await outboundDropped(ctx.metricsUrl)) - droppedBefore;
    if (dropped > 0) tally.refuse(42915, dropped);
    else tally.note(`nothing dropped after ${((Date.now() - started) / 1000).toFixed(1)} s of ${(payload.length / 1000).toFixed(0)} KB messages`);
  } finally {
    reader.close();
    for (const c of clients) c.close();
  }
}

const ATTACH_TIMEOUT = 90007;

/** Attaches more channels than a connection may hold: the ones past the limit are refused with 90010. */
export async function channelHog(ctx: RealtimeAttackContext, tally: AttackTally, extra = 20): Promise<void> {
  const client = await ctx.sdk();
  try {
    await connected(client, 'channel hog connect');
    const n = ctx.limits.maxChannelsPerConnection + extra;
    // In order, so the refusals are the last ones asked for, as a client would see them.
    let attached = 0;
    for (let i = 0; i < n; i++) {
      tally.attempts++;
      try {
        await client.channels.get(channelName(`${ctx.room}-hog${i}`, 'incoming')).attach();
        attached++;
      } catch (err) {
        const code = (err as Ably.ErrorInfo).code;
        // The SDK's own timeout: a loaded service answered too late, which says nothing of its limit.
        if (code === ATTACH_TIMEOUT) {
          tally.attempts--;
          tally.note('an attach timed out in the SDK (90007): not counted');
        } else tally.refuse(code ?? 'no-code');
      }
    }
    tally.accept(attached, Math.max(0, attached - ctx.limits.maxChannelsPerConnection));
  } finally {
    client.close();
  }
}

/** A frame header announcing 64 MB (the old WebSocket limit) followed by 64 KB: refused with 1009 without waiting for the rest. */
export async function oversizeFrames(ctx: RealtimeAttackContext, tally: AttackTally, frames = 2): Promise<void> {
  for (let i = 0; i < frames; i++) {
    const td = await ctx.session.token(ctx.realtime);
    tally.attempts++;
    const r = await oversizeFrame(ctx.at, td.token, 64 << 20, 64 << 10);
    if (typeof r === 'number') tally.refuse(`ws-${r}`);
    else if (r === 'timeout') {
      tally.accept(1, 1);
      tally.note('the service kept reading the oversized frame (no close within 5 s)');
    } else tally.refuse('ws-closed-without-code');
  }
}

async function outboundDropped(metricsUrl: string): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  const m = /^realtime_outbound_dropped_total (\d+)/m.exec(text);
  return m ? Number(m[1]) : 0;
}

/** Waits until `done()` or the connection closed (then a moment for the last frames), bounded by `timeoutMs`. */
async function settleRaw(c: RawConnection, done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let closed = false;
  void c.closed.then(() => (closed = true));
  while (!done() && !closed && Date.now() < deadline) await sleep(20);
}

const sum = (m: Map<number, number>) => [...m.values()].reduce((a, b) => a + b, 0);
