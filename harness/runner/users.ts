/**
 * Where a run's users live: in worker threads (the default: `options.workers`, see
 * worker-pool.ts) or, with `workers: 0`, in the main thread as before. Hostile clients always
 * stay in the main thread: their attacks need the SDK client itself (tokens, raw publishes).
 */
import type * as Ably from 'ably';
import type { SystemUnderTest } from '../stack/index.ts';
import { LightReader } from '../workload/light-reader.ts';
import { SharedFrameDecoder } from '../workload/shared-frames.ts';
import type { ChatUser, ReaderClient } from '../workload/user.ts';
import { VirtualUser } from '../workload/virtual-user.ts';
import { defaultWorkers, VuPool } from '../workload/worker-pool.ts';
import type { LiveStats } from './live-stats.ts';

export interface UserFactoryInput {
  stack: Pick<SystemUnderTest, 'endpoints'>;
  clientOptions: Ably.ClientOptions;
  stats: LiveStats;
  ignoreVersions: boolean;
  workers?: number;
  readerClient?: ReaderClient;
}

export class UserFactory {
  readonly readerClient: ReaderClient;
  readonly pool: VuPool | undefined;
  private historyOpen = true;

  private readonly frames = new SharedFrameDecoder();

  constructor(private readonly input: UserFactoryInput) {
    const { stack, stats } = input;
    this.readerClient = input.readerClient ?? 'sdk';
    const workers = input.workers ?? defaultWorkers();
    // The run clock's origin on process.hrtime, which every thread of the process shares.
    const startNs = process.hrtime.bigint() - BigInt(Math.round(stats.now() * 1e6));
    this.pool =
      workers > 0
        ? new VuPool({
            workers,
            startNs,
            epochMs: stats.epochMs,
            realtime: input.clientOptions,
            loginUrl: stack.endpoints.loginUrl,
            tokenUrl: stack.endpoints.tokenUrl,
            ...(stack.endpoints.historyUrl ? { historyUrl: stack.endpoints.historyUrl } : {}),
            ignoreVersions: input.ignoreVersions,
            healthIntervalMs: 1000,
            // A batch sent after the history closed holds nothing the run still judges.
            onBatch: (b) => this.historyOpen && stats.ingest(b),
          })
        : undefined;
  }

  get workers(): number {
    return this.pool?.size ?? 0;
  }

  describe(): string {
    const where = this.pool ? `${this.pool.size} worker thread${this.pool.size > 1 ? 's' : ''}` : 'main thread';
    return `${where}, ${this.readerClient} readers`;
  }

  /** An SDK user in the main thread. */
  local(clientId: string, room: string, late = false, extra: { historyPageLimit?: number } = {}): VirtualUser {
    const { stack, clientOptions, stats, ignoreVersions } = this.input;
    return new VirtualUser({
      clientId,
      room,
      realtime: clientOptions,
      auth: { kind: 'session', loginUrl: stack.endpoints.loginUrl, tokenUrl: stack.endpoints.tokenUrl },
      recorder: stats,
      ignoreVersions,
      ...(late ? { historyUrl: stack.endpoints.historyUrl } : {}),
      ...(stack.endpoints.historyUrl ? { catchUpUrl: stack.endpoints.historyUrl } : {}),
      ...extra,
    });
  }

  /** Readers may be light clients; late joiners and returning readers load history, which only the SDK user does. */
  user(clientId: string, room: string, opts: { late?: boolean; reader?: boolean } = {}): ChatUser {
    const late = opts.late ?? false;
    const client: ReaderClient = opts.reader && !late ? this.readerClient : 'sdk';
    if (this.pool) return this.pool.create(clientId, room, { late, client });
    if (client === 'sdk') return this.local(clientId, room, late);
    const { stack, clientOptions: c, stats, ignoreVersions } = this.input;
    return new LightReader({
      clientId,
      room,
      realtime: { host: String(c.endpoint ?? '127.0.0.1'), port: Number(c.port), tls: c.tls === true },
      loginUrl: stack.endpoints.loginUrl,
      tokenUrl: stack.endpoints.tokenUrl,
      recorder: stats,
      ignoreVersions,
      frames: this.frames,
    });
  }

  /** Ends the workers; later batches are dropped (call once the history is complete). */
  async stop(): Promise<void> {
    this.historyOpen = false;
    await this.pool?.stop();
  }
}
