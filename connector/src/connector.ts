/**
 * The connector's lifecycle: setup, realtime connection, then a supervisor that (re)connects to
 * Postgres with backoff, waits for the leader lock, and runs the mode's worker until the session
 * is lost or a stop is asked for.
 */
import type pg from 'pg';
import pino, { type Logger } from 'pino';
import type { ConnectorConfig, Mapping } from './config.ts';
import { DurableWorker } from './durable.ts';
import type { Worker, WorkerContext } from './worker.ts';
import { serveHttp, type HttpEndpoint } from './http.ts';
import { endStaleLeader, resign, tryLead } from './leader.ts';
import { ConnectorMetrics, type ConnectorStats } from './metrics.ts';
import { NotifyWorker } from './notify.ts';
import { backoffMs, closeClient, jitterSource, newClient, sleep } from './pg.ts';
import { routeKey } from './plan.ts';
import { RealtimePublisher } from './publisher.ts';
import { setupDatabase, type SetupResult } from './setup.ts';
import { WalWorker } from './wal.ts';
import { SlotMonitor } from './wal-monitor.ts';

export interface ConnectorOptions {
  logger?: Logger;
  /** 0 = a free port (default). Health at /health, Prometheus at /metrics. */
  httpPort?: number;
  /** Default 127.0.0.1; a container needs 0.0.0.0. */
  httpHost?: string;
  /**
   * A planted defect for a test harness's self-check, never for deployments, so no config file
   * or shipped CLI option can set it (connector/testing/cli-with-defects.ts does).
   * 'publish-without-waiting' publishes each change after its own random REST-like round-trip
   * delay, without waiting for the previous one, as the original connector did with Ably.Rest.
   * 'swap-rows' sends two neighbouring changes of different rows on one channel in swapped order.
   */
  plantedDefect?: PlantedDefect;
}

export type PlantedDefect = 'publish-without-waiting' | 'swap-rows';

export interface StartedConnector {
  healthUrl: string;
  metricsUrl: string;
  /** Holds the leader lock. */
  isActive(): boolean;
  stats(): ConnectorStats;
  /** Graceful: finish in-flight publishes, release the lock, close. */
  stop(): Promise<void>;
}

export class Connector {
  private readonly log: Logger;
  private readonly metrics = new ConnectorMetrics();
  private active = false;
  private pgUp = false;
  private stopping = false;
  private readonly abort = new AbortController();
  private worker?: Worker;
  private main?: pg.Client;
  private acker?: pg.Client;
  private slotMonitor?: SlotMonitor;
  private slotTimer?: NodeJS.Timeout;

  constructor(
    private readonly config: ConnectorConfig,
    private readonly opts: ConnectorOptions = {},
  ) {
    this.log = opts.logger ?? pino({ name: 'connector', level: process.env.CONNECTOR_LOG_LEVEL ?? 'warn' }, pino.destination(2));
  }

  async start(): Promise<StartedConnector> {
    const cfg = this.config;
    const random = jitterSource(cfg.seed);
    const main = this.openClient('main');
    let publisher: RealtimePublisher | undefined;
    let http: HttpEndpoint | undefined;
    let setup: SetupResult;
    try {
      await main.connect();
      this.pgUp = true;
      setup = await setupDatabase(main, cfg);
      this.log.info({ schema: setup.names.schema, created: setup.triggersCreated, dropped: setup.triggersDropped }, 'database set up');
      publisher = new RealtimePublisher(
        cfg.realtime,
        { min: cfg.timing.reconnectMinMs, max: cfg.timing.reconnectMaxMs },
        { onReconnect: () => this.metrics.reconnect('realtime'), onStateChange: () => {} },
        this.log,
        this.opts.plantedDefect,
        random,
      );
      if (this.opts.plantedDefect) this.log.warn({ plantedDefect: this.opts.plantedDefect }, 'PLANTED DEFECT active: this connector is broken on purpose');
      // Until connected, the service's message size limit is unknown: do not publish before.
      await publisher.connected(Math.max(10_000, cfg.timing.queryTimeoutMs));
      http = await serveHttp(this.opts.httpHost ?? '127.0.0.1', this.opts.httpPort ?? 0, () => this.health(publisher!), this.metrics.registry);
    } catch (err) {
      await publisher?.close();
      await closeClient(main);
      this.pgUp = false;
      throw err;
    }
    const ctx: WorkerContext = { cfg, setup, routes: routesOf(cfg.mappings, setup), publisher, metrics: this.metrics, log: this.log, random };
    if (setup.wal) this.watchSlot(setup.wal.slot);
    const supervisor = this.supervise(ctx, main);
    const started = http;
    const pub = publisher;
    let stopped: Promise<void> | undefined;
    return {
      healthUrl: started.healthUrl,
      metricsUrl: started.metricsUrl,
      isActive: () => this.active,
      stats: () => this.metrics.stats(),
      stop: () => (stopped ??= this.shutdown(supervisor, pub, started)),
    };
  }

  /** Every instance watches the slot: a standby is the one left to warn when nothing consumes it. */
  private watchSlot(slot: string): void {
    const monitor = new SlotMonitor(slot, this.config.wal.unconsumedWarnSeconds, this.metrics, this.log);
    this.slotMonitor = monitor;
    let busy = false;
    this.slotTimer = setInterval(() => {
      const c = this.main;
      if (busy || !c || !this.pgUp) return;
      busy = true;
      const lag = this.worker instanceof WalWorker ? this.worker.lagSeconds() : 0;
      monitor
        .poll(c, lag)
        .catch((err: Error) => this.log.debug({ err: err.message }, 'slot status not read'))
        .finally(() => (busy = false));
    }, this.config.wal.lagPollMs);
    this.slotTimer.unref();
  }

  private openClient(role: string): pg.Client {
    const c = newClient(this.config, role);
    // A dead connection emits 'error' with no query to reject; it must end the session, not the process.
    c.on('error', (err) => this.sessionLost(c, err));
    c.on('end', () => this.sessionLost(c, new Error(`postgres ${role} connection ended`)));
    return c;
  }

  private sessionLost(c: pg.Client, err: Error): void {
    if (c !== this.main && c !== this.acker) return;
    this.pgUp = false;
    this.worker?.fail(err);
  }

  private health(publisher: RealtimePublisher): { ok: boolean; [k: string]: unknown } {
    const realtime = publisher.state;
    return { ok: this.pgUp && realtime === 'connected' && !this.stopping, active: this.active, postgres: this.pgUp ? 'connected' : 'disconnected', realtime, mode: this.config.mode, ...this.metrics.stats(), ...(this.slotMonitor ? { slot: this.slotMonitor.current() } : {}) };
  }

  private async supervise(ctx: WorkerContext, first: pg.Client): Promise<void> {
    const { timing } = this.config;
    const schema = ctx.setup.names.schema;
    let main: pg.Client | undefined = first;
    let stalePid: number | undefined;
    let attempt = 0;
    this.main = first;
    while (!this.stopping) {
      try {
        if (!main) {
          main = this.openClient('main');
          this.main = main;
          await main.connect();
          this.pgUp = true;
        }
        if (stalePid !== undefined) {
          if (await endStaleLeader(main, stalePid)) this.log.warn({ pid: stalePid }, 'ended our previous session, which still held the leader lock');
          stalePid = undefined;
        }
        while (!this.stopping && !(await tryLead(main, schema))) {
          attempt = 0;
          await sleep(timing.leaderPollMs, this.abort.signal);
        }
        if (this.stopping) break;
        const pid = (main as unknown as { processID?: number }).processID;
        this.acker = this.openClient('ack');
        await this.acker.connect();
        // Deleting acknowledged rows need not wait for the disk: a delete lost in a database crash
        // only means a re-send, which the message ids make harmless.
        await this.acker.query('SET synchronous_commit = off');
        this.worker = this.newWorker(ctx, main, this.acker);
        this.active = true;
        this.metrics.active(true);
        this.log.info({ schema, mode: this.config.mode }, 'leader: publishing');
        attempt = 0;
        // A stop that came while this session was being set up found no worker to stop.
        if (this.stopping) this.worker.stop();
        try {
          await this.worker.run();
        } catch (err) {
          if (pid !== undefined) stalePid = pid;
          throw err;
        }
        await resign(main, schema).catch(() => {});
      } catch (err) {
        if (this.stopping) break;
        this.log.warn({ err: (err as Error).message, attempt }, 'postgres session lost; reconnecting');
        this.metrics.error('postgres');
        this.metrics.reconnect('postgres');
        this.setInactive();
        const old = [main, this.acker];
        main = this.main = this.acker = undefined;
        this.pgUp = false;
        await Promise.all(old.map((c) => closeClient(c)));
        await sleep(backoffMs(attempt++, timing.reconnectMinMs, timing.reconnectMaxMs, ctx.random), this.abort.signal);
      } finally {
        this.worker = undefined;
      }
    }
    this.setInactive();
  }

  private newWorker(ctx: WorkerContext, main: pg.Client, acker: pg.Client): Worker {
    if (this.config.mode === 'durable') return new DurableWorker(ctx, main, acker);
    if (this.config.mode === 'wal') return new WalWorker(ctx, main);
    return new NotifyWorker(ctx, main);
  }

  private setInactive(): void {
    if (this.active) this.log.info('no longer leader');
    this.active = false;
    this.metrics.active(false);
  }

  private async shutdown(supervisor: Promise<void>, publisher: RealtimePublisher, http: HttpEndpoint): Promise<void> {
    this.stopping = true;
    this.abort.abort();
    clearInterval(this.slotTimer);
    const worker = this.worker;
    worker?.stop();
    const timeout = setTimeout(() => worker?.fail(new Error('shutdown timeout: publishes still unacknowledged')), this.config.timing.shutdownTimeoutMs);
    await supervisor;
    clearTimeout(timeout);
    // Closing the session releases the leader lock; the standby takes over from the outbox.
    await Promise.all([closeClient(this.main), closeClient(this.acker)]);
    this.main = this.acker = undefined;
    this.pgUp = false;
    await publisher.close();
    await http.close();
  }
}

function routesOf(mappings: Mapping[], setup: SetupResult): Map<string, Mapping[]> {
  const routes = new Map<string, Mapping[]>();
  for (const m of mappings) {
    const k = routeKey(setup.tables.get(m.tablename)!.relname, m.operation);
    routes.set(k, [...(routes.get(k) ?? []), m]);
  }
  return routes;
}
