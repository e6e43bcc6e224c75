/**
 * The per-app limits Ably enforces on realtime connections, with its codes: a connection that
 * publishes too fast is NACKed (42911) and, far beyond the limit, closed (42921); a channel whose
 * publishers together go too fast NACKs the excess (42913); a connection sending protocol messages
 * at an abusive rate is closed (42924). Without these, a load test can pass here and fail on Ably,
 * and one client can starve the others.
 */
import { z } from 'zod';
import type { Stats } from './metrics.ts';
import { AblyError } from './protocol/errors.ts';

export const limitsSchema = z.strictObject({
  /** Messages per second one connection may publish (Ably standard account: 50). */
  connectionInboundRate: z.number().int().min(1).default(50),
  /** How far beyond the inbound rate a connection is closed rather than NACKed (Ably: about 20x). */
  fatalInboundFactor: z.number().min(1).default(20),
  /** Messages per second all publishers together may publish on one channel (Ably: 50). */
  channelInboundRate: z.number().int().min(1).default(50),
  /** Protocol messages per second a connection may send before it is closed (Ably: about 2000). */
  protocolMessageRate: z.number().int().min(1).default(2000),
  /**
   * Which connections the rates apply to. 'tokens': end users' connections only; key-authenticated
   * server parts (the connector) stand for an account whose limits were raised for them, as a
   * production chat of this shape would arrange with Ably. 'all': every connection.
   */
  appliesTo: z.enum(['tokens', 'all']).default('tokens'),
  /**
   * Bytes a connection's socket may have queued before messages to it are dropped (42915) and each
   * affected channel gets a continuity loss (80020) once it drains; bounds a slow consumer's memory.
   */
  maxQueuedBytes: z.number().int().min(1024).default(4 << 20),
  /**
   * Messages per second the service delivers to one connection; the excess is dropped (42915) and
   * each affected channel gets a continuity loss (80020) in the next second with room. Ably's limits
   * page gives 50/s for every package; the default stays higher so that a suite of token-authenticated
   * tests is not throttled, and the abuse scenario sets Ably's figure.
   */
  connectionOutboundRate: z.number().int().min(1).default(1000),
  /** Channels one connection may have attached (Ably: 200); one more is refused with 90010. */
  maxChannelsPerConnection: z.number().int().min(1).default(200),
  /** Members one channel's presence set may hold (Ably: 200); entering one more is NACKed with 91003. */
  maxPresenceMembers: z.number().int().min(1).default(200),
});

export type Limits = z.infer<typeof limitsSchema>;
export type LimitsInput = z.input<typeof limitsSchema>;

/** Counts events in the current one-second window; cheap enough for the per-frame hot path. */
export class RateWindow {
  private second = 0;
  private count = 0;

  /** Counts `n` events now and returns the window's total so far. */
  hit(n = 1, now = Date.now()): number {
    const s = Math.floor(now / 1000);
    if (s !== this.second) {
      this.second = s;
      this.count = 0;
    }
    this.count += n;
    return this.count;
  }

  /** The window's total so far, without counting anything. */
  peek(now = Date.now()): number {
    return Math.floor(now / 1000) === this.second ? this.count : 0;
  }
}

/**
 * Decides, per message frame, whether it goes to a connection: not when its socket has
 * `maxQueuedBytes` queued (a slow consumer) nor beyond `connectionOutboundRate`. Either way the
 * frame is dropped (42915, counted once per gap) and the attachment owes the client a continuity
 * loss; later frames of that attachment are dropped too until the loss has been reported, so the
 * client never sees messages after a hole it was not told of.
 */
export class OutboundGate {
  private readonly rate = new RateWindow();
  /** Attachments (by the client's channel name) with an unreported gap, and what opened it. */
  private readonly gaps = new Map<string, 'bytes' | 'rate'>();

  constructor(
    private readonly limits: Limits,
    private readonly stats: Stats,
    private readonly rateLimited: () => boolean,
  ) {}

  get hasGaps(): boolean {
    return this.gaps.size > 0;
  }

  admit(name: string, queuedBytes: number, frameBytes: number, now = Date.now()): boolean {
    const overRate = this.rateLimited() && this.rate.hit(1, now) > this.limits.connectionOutboundRate;
    const full = queuedBytes + frameBytes > this.limits.maxQueuedBytes;
    let cause = this.gaps.get(name);
    if (!cause && !full && !overRate) return true;
    if (!cause) {
      cause = full ? 'bytes' : 'rate';
      this.gaps.set(name, cause);
      this.stats.error(42915);
    }
    if (cause === 'bytes') this.stats.outboundDropped++;
    else this.stats.outboundRateDropped++;
    return false;
  }

  /** The attachments whose gap may be reported now (the socket drained to half its cap, the rate has room); forgets them. */
  takeReportable(queuedBytes: number, now = Date.now()): string[] {
    if (this.gaps.size === 0 || queuedBytes > this.limits.maxQueuedBytes / 2) return [];
    if (this.rateLimited() && this.rate.peek(now) >= this.limits.connectionOutboundRate) return [];
    const names = [...this.gaps.keys()];
    this.gaps.clear();
    return names;
  }
}

export const LimitErrors = {
  connectionInbound: (rate: number) =>
    new AblyError(42911, 429, `Rate limit exceeded; request rejected (nonfatal); metric = connection.inboundRate; permitted rate = ${rate}`),
  connectionInboundFatal: (rate: number) =>
    new AblyError(42921, 429, `Rate limit exceeded; connection closed (fatal); metric = connection.inboundRate; permitted rate = ${rate}`),
  channelInbound: (rate: number) =>
    new AblyError(42913, 429, `Rate limit exceeded; request rejected (nonfatal); metric = channel.maxRate; permitted rate = ${rate}`),
  continuityLoss: () => new AblyError(80020, 400, 'Continuity of the channel was lost: messages were dropped because the connection could not keep up (42915)'),
  tooManyChannels: (max: number) => new AblyError(90010, 400, `Maximum number of channels per connection (${max}) exceeded`),
  tooManyMembers: (max: number) => new AblyError(91003, 400, `Unable to enter member to presence channel; maximum number of ${max} members exceeded`),
  protocolRate: (rate: number) => new AblyError(42924, 429, `Connection terminated for abuse (inbound protocol message rate exceeded ${rate}/s)`),
} as const;
