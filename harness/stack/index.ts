/**
 * The stack: every service of the architecture, started in dependency order (Postgres, Lambda
 * runtime, realtime service + integration rules, functions server, connector, web origin) and
 * stopped in reverse, also on failure and Ctrl-C. Each part runs in its own OS process, as
 * deployed for real, so the harness process holds only the generator and measures the stack,
 * not itself; the harness holds handles on them (see parts/index.ts).
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type * as Ably from 'ably';
import pg from 'pg';
import { dropWalSlot, parseConnectorConfig } from '../../connector/src/index.ts';
import { channelWildcard, INCOMING_CHANNEL_TEMPLATE } from '../../reference-app/contract/index.ts';
import { migrate } from '../../reference-app/db/migrate.ts';
import { DEFAULT_WORKERS } from '../lambda/index.ts';
import type { LimitsInput } from '../realtime/limits.ts';
import { loadRules } from '../realtime/rules/index.ts';
import { registerCleanup } from '../lib/cleanup.ts';
import { ConnectorProcess } from './connector-process.ts';
import { maybeProxy, viaProxy, type LinkName, type StartedLinks } from './links.ts';
import { describeDefects, type PlantedDefects } from './defects.ts';
import type { PartProcess } from './part-process.ts';
import type { PartSpec } from './part-protocol.ts';
import { startFunctionsPart, startLambdaPart, startRealtimePart, type FunctionsHandle, type LambdaHandle, type RealtimeHandle, type RulesHandle } from './parts/index.ts';
import { PostgresService, type PgProviderName, type StartedPostgres } from './postgres/index.ts';
import { quiesceStack } from './quiesce.ts';
import type { FaultTargets, SystemUnderTest } from './roles.ts';
import { createDestinationFile, type EventInvokeOptions } from './event-invoke.ts';
import { replayFailures } from '../lambda/replay.ts';
import { startWebServer, type StartedWeb } from './web.ts';

export type { FunctionsHandle, LambdaHandle, RealtimeAdmin, RealtimeHandle, RulesHandle } from './parts/index.ts';
export type { QuiesceResult } from './quiesce.ts';
export { FAULT_TARGETS, offeredTargets, type FaultTarget, type FaultTargets, type SutEndpoints, type SystemUnderTest } from './roles.ts';

const CHAT_WRITER = fileURLToPath(new URL('../../reference-app/functions/chat-writer.ts', import.meta.url));
const CHAT_WRITER_DEFECTIVE = fileURLToPath(new URL('./parts/chat-writer-defective.ts', import.meta.url));

export const DEFAULT_RULES = fileURLToPath(new URL('../realtime/rules/chat-rules.json', import.meta.url));
export const ORDERED_RULES = fileURLToPath(new URL('../realtime/rules/chat-rules.ordered.json', import.meta.url));

export interface StackOptions {
  pg?: PgProviderName;
  databaseUrl?: string;
  /** External database: pin this schema instead of a fresh `run_*` one (refused while another run holds it). */
  schema?: string;
  /** External database: keep the run's schema on stop (its name: `postgres.schema`). */
  keep?: boolean;
  /** Integration rules file (default: Ably + Lambda's real, unordered delivery). */
  rulesFile?: string;
  connectorMode?: 'durable' | 'notify' | 'wal';
  /** Connector processes sharing the leader lock: 1 (default), or 2 for an active and a standby. */
  connectors?: number;
  /** Lifetime of the tokens the token endpoint issues (default 1 h); short ones make clients renew. */
  tokenTtlMs?: number;
  /** Links routed through a TCP proxy, for network faults (see harness/stack/links.ts). */
  links?: readonly LinkName[];
  /** Planted defects for the self-check and property tests; never on by default. */
  defects?: PlantedDefects;
  /** Serve the generated web app from this folder and report `chatUrl` (on `port`, default any free one). */
  web?: { dir: string; port?: number };
  /** A run's seed: the integration rules' delays and duplicates and the connector's backoff draw from it. */
  seed?: number;
  /** Worker threads (Lambda instances) running the chat-writer (default 4). */
  lambdaWorkers?: number;
  /**
   * Replaces every rule's `timeScale` (and the Lambda's own retry delays): a scenario that must
   * outlast AWS's minutes of retries says so here, whichever rules file the user picked.
   */
  timeScale?: number;
  /** The chat-writer's asynchronous-invocation config (used when a rule invokes with 'Event'). */
  eventInvokeConfig?: EventInvokeOptions;
  onProgress?: (msg: string) => void;
  /**
   * The realtime service's limits. Default: a standard Ably account's, except the two publish
   * rates (per connection, per channel), raised to 1000/s, and the outbound rate per connection,
   * raised to 10,000/s (a reader of one busy room at a capacity sweep's rates), so the load
   * scenarios measure the chat rather than an account tier; pass `{}` for a standard account's
   * rates throughout.
   */
  realtimeLimits?: LimitsInput;
}

const STACK_LIMITS: LimitsInput = { connectionInboundRate: 1000, channelInboundRate: 1000, connectionOutboundRate: 10_000 };

export interface StackEndpoints {
  databaseUrl: string;
  realtime?: { host: string; port: number; tls: boolean; apiKey: string };
  tokenUrl?: string;
  loginUrl?: string;
  historyUrl?: string;
  lambdaEndpoint?: string;
  /** Everything an @aws-sdk/client-lambda user needs to invoke the stack's functions (signed with SigV4). */
  lambda?: { endpoint: string; region: string; accessKeyId: string; secretAccessKey: string };
  connectorHealthUrl?: string;
  /** The realtime service's fault controls: POST {url}/{drop,pause,resume,delay}, HTTP Basic with `realtime.apiKey`; no CORS. */
  admin?: { url: string; auth: 'basic-root-key' };
  chatUrl?: string;
}

/**
 * A stack the harness started: the system under test and every fault target, and the handles
 * on its own parts (tests and benches read them).
 */
export interface StartedStack extends SystemUnderTest, FaultTargets {
  postgres: StartedPostgres;
  realtime: RealtimeHandle;
  lambda: LambdaHandle;
  /** The integration rules (realtime -> Lambda): stats, drain, and a record of every invocation. */
  rules: RulesHandle;
  functions: FunctionsHandle;
  /** The first connector process (a crash-and-restart target). */
  connector: ConnectorProcess;
  /** The same process as `connector`, under the name the property tests use: kill(), stop(), start(), restart(how). */
  connectorControl: ConnectorProcess;
  /** Every connector process (more than one when a standby runs). */
  connectors: ConnectorProcess[];
  web?: StartedWeb;
  endpoints: Required<Omit<StackEndpoints, 'chatUrl'>> & { chatUrl?: string };
  /** Proxies of the links the run asked for. */
  links: StartedLinks;
  /** The OS processes of the stack, for per-part CPU and memory. */
  processes(): Array<{ part: string; pid: number }>;
  stop(): Promise<void>;
}

/** Postgres with the chat schema and nothing else (`npm run stack -- --postgres-only`). */
export interface PostgresOnlyStack {
  postgres: StartedPostgres;
  endpoints: Pick<StackEndpoints, 'databaseUrl'>;
  stop(): Promise<void>;
}

async function dropSlotOf(url: string, cfg: ReturnType<typeof parseConnectorConfig>): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await dropWalSlot(c, cfg);
  } finally {
    await c.end();
  }
}

type Stops = Array<{ name: string; stop: () => Promise<void> }>;

/** Stops what was started, in reverse and once: on `stop()`, on failure, and when the harness exits. */
function stopper(): { stops: Stops; stopAll: () => Promise<void> } {
  const stops: Stops = [];
  let stopped = false;
  const stopAll = async () => {
    if (stopped) return;
    stopped = true;
    unregister();
    for (const s of stops.reverse()) await s.stop().catch((err) => process.stderr.write(`stopping ${s.name}: ${String(err)}\n`));
  };
  const unregister = registerCleanup({ name: 'stack', stop: stopAll });
  return { stops, stopAll };
}

export type FoundationOptions = Pick<StackOptions, 'pg' | 'databaseUrl' | 'schema' | 'keep' | 'onProgress'>;

/** The foundation every stack stands on: Postgres with the chat schema. */
async function startFoundation(opts: FoundationOptions, stops: Stops): Promise<StartedPostgres> {
  const progress = opts.onProgress ?? (() => {});
  const postgres = await new PostgresService({
    ...(opts.pg ? { provider: opts.pg } : {}),
    ...(opts.databaseUrl ? { databaseUrl: opts.databaseUrl } : {}),
    ...(opts.schema ? { schema: opts.schema } : {}),
    ...(opts.keep ? { keep: true } : {}),
    onProgress: progress,
  }).start();
  stops.push({ name: 'postgres', stop: postgres.stop });
  progress(`postgres (${postgres.provider}) ready in ${postgres.startupMs.toFixed(0)} ms`);
  const applied = await migrate(postgres.connectionUri);
  if (applied.length) progress(`migrations applied: ${applied.join(', ')}`);
  return postgres;
}

export async function startPostgresOnly(opts: FoundationOptions = {}): Promise<PostgresOnlyStack> {
  const { stops, stopAll } = stopper();
  try {
    const postgres = await startFoundation(opts, stops);
    return { postgres, endpoints: { databaseUrl: postgres.connectionUri }, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

export async function startStack(opts: StackOptions = {}): Promise<StartedStack> {
  const progress = opts.onProgress ?? (() => {});
  const { stops, stopAll } = stopper();
  try {
    const postgres = await startFoundation(opts, stops);
    const databaseUrl = postgres.connectionUri;

    const secret = () => randomBytes(18).toString('base64url');
    const rootKey = { keyName: 'chat.root', secret: secret() };
    const connectorKey = { keyName: 'chat.connector', secret: secret(), capability: { [channelWildcard('incoming')]: ['publish'] } };
    const logLevel = process.env.LOG_LEVEL ?? 'error';
    const parts: Array<{ part: string; pid: () => number | undefined }> = [];
    const own = <S extends PartSpec>(name: string, p: PartProcess<S>) => {
      parts.push({ part: name, pid: () => p.pid() });
      stops.push({ name, stop: () => p.stop() });
    };

    const defects = opts.defects ?? {};
    if (describeDefects(defects).length) progress(`PLANTED DEFECTS: ${describeDefects(defects).join(', ')}`);
    const wanted = opts.links ?? [];
    const links: StartedLinks = {};
    stops.push({ name: 'links', stop: async () => void (await Promise.all(Object.values(links).map((l) => l.stop()))) });
    const pgAt = { host: postgres.host, port: postgres.port };
    const writerDb = viaProxy(databaseUrl, await maybeProxy(wanted, 'writer-db', pgAt, links));
    const connectorDb = viaProxy(databaseUrl, await maybeProxy(wanted, 'connector-db', pgAt, links));

    // Independent parts start side by side: the Lambda runtime (its workers' cold starts are the
    // slowest step) with the realtime service, then the functions server with the connector.
    const writerDefects = [
      ...(defects.writerFirstOnly ? ['firstOnly'] : []),
      ...(defects.writerNoAuthorCheck ? ['noAuthorCheck'] : []),
      ...(defects.writerLastArrivalWins ? ['lastArrivalWins'] : []),
      ...(defects.writerPostRevertsText ? ['postRevertsText'] : []),
      ...(defects.writerHeldNoAuthorCheck ? ['heldNoAuthorCheck'] : []),
    ];
    const workers = opts.lambdaWorkers ?? DEFAULT_WORKERS;
    const destination = opts.eventInvokeConfig?.onFailure ? createDestinationFile() : undefined;
    if (destination) stops.push({ name: 'on-failure destination', stop: async () => destination.remove() });
    const [lambdaStart, rtStart] = await Promise.allSettled([
      startLambdaPart({
        functions: {
          'chat-writer': {
            module: writerDefects.length ? CHAT_WRITER_DEFECTIVE : CHAT_WRITER,
            exportName: 'handler',
            environment: { DATABASE_URL: writerDb, PG_POOL_MAX: '2', ...(writerDefects.length ? { CHAT_WRITER_DEFECTS: writerDefects.join(',') } : {}) },
            workers,
          },
        },
        // Per-run credentials: a secret printed in the source would let anyone forge the writer's caller.
        credentials: { accessKeyId: `LOCAL${randomBytes(8).toString('hex').toUpperCase()}`, secretAccessKey: randomBytes(24).toString('base64url') },
        logLevel,
        ...lambdaAsync(opts, destination),
      }),
      startRealtimePart({
        keys: [rootKey, connectorKey],
        logLevel,
        limits: opts.realtimeLimits ?? STACK_LIMITS,
        ...(defects.realtimeResumeSkipsFirst ? { plantedDefect: 'resume-skips-first-missed' as const } : {}),
      }),
    ]);
    if (lambdaStart.status === 'fulfilled') own('lambda', lambdaStart.value.part);
    if (rtStart.status === 'fulfilled') own('realtime', rtStart.value.part);
    if (lambdaStart.status === 'rejected') throw lambdaStart.reason;
    if (rtStart.status === 'rejected') throw rtStart.reason;
    const { lambda } = lambdaStart.value;
    const rt = rtStart.value;
    const { realtime, rules } = rt;
    progress(`lambda runtime ${lambda.endpoint} running chat-writer on ${workers} workers (pid ${lambdaStart.value.part.pid()})`);

    let ruleSet = loadRules(opts.rulesFile ?? DEFAULT_RULES);
    // A first-message-only writer is harmless until envelopes carry several messages.
    if (defects.writerFirstOnly) ruleSet = ruleSet.map((r) => ({ ...r, batching: { enabled: true, maxMessages: 10, maxDelayMs: 50 } }));
    if (opts.seed !== undefined) ruleSet = ruleSet.map((r) => ({ ...r, seed: r.seed ?? opts.seed }));
    if (opts.timeScale !== undefined) ruleSet = ruleSet.map((r) => ({ ...r, timeScale: opts.timeScale! }));
    await rt.part.request('attachRules', { rules: ruleSet, lambda: { endpoint: lambda.endpoint, region: lambda.region, credentials: lambda.credentials } });
    progress(`realtime service on ${realtime.host}:${realtime.port} with the integration rules (pid ${rt.part.pid()})`);
    const connectorRt = await maybeProxy(wanted, 'connector-realtime', { host: realtime.host, port: realtime.port }, links);
    const clientsRt = await maybeProxy(wanted, 'clients-realtime', { host: realtime.host, port: realtime.port }, links);

    const clientOptions = realtime.clientOptions;
    const connectorConfig = {
      connector: (['INSERT', 'UPDATE', 'DELETE'] as const).map((operation) => ({
        tablename: 'chat_messages',
        ablychannelname: INCOMING_CHANNEL_TEMPLATE,
        operation,
      })),
      ably: { apiKey: `${connectorKey.keyName}:${connectorKey.secret}` },
      extensions: {
        database: { url: connectorDb },
        realtime: { host: connectorRt.host, port: connectorRt.port, tls: false, connectivityCheckUrl: String(clientOptions.connectivityCheckUrl), wsConnectivityCheckUrl: String(clientOptions.wsConnectivityCheckUrl) },
        mode: opts.connectorMode ?? 'durable',
        messageName: 'operation',
        channelTemplates: true,
      },
    };
    // Validate here, where a mistake is ours, rather than in the child's stderr. The stack sets
    // every target itself: the user's ABLY_* variables are for real deployments, hence `{}`.
    const parsedConnectorConfig = parseConnectorConfig(connectorConfig, {});
    // Registered before the connectors, so it runs after they stopped: a slot left behind pins WAL.
    if (parsedConnectorConfig.mode === 'wal') stops.push({ name: 'replication slot', stop: () => dropSlotOf(databaseUrl, parsedConnectorConfig) });
    const connectors: ConnectorProcess[] = [];
    for (let i = 0; i < Math.max(1, opts.connectors ?? 1); i++) {
      // One seed per connector: the same jitter would make an active and a standby reconnect in lockstep.
      const seeded = opts.seed === undefined ? connectorConfig : { ...connectorConfig, extensions: { ...connectorConfig.extensions, seed: (opts.seed + i) | 0 } };
      const c = new ConnectorProcess(i === 0 ? 'primary' : `standby-${i}`, seeded, defects.connectorNoWait ? { plantedDefect: 'publish-without-waiting' } : defects.connectorSwapRows ? { plantedDefect: 'swap-rows' } : {});
      connectors.push(c);
      stops.push({ name: `connector ${c.name}`, stop: () => c.shutdown() });
    }
    const [fnStart, connectorsStart] = await Promise.allSettled([
      startFunctionsPart({
        databaseUrl,
        ablyKey: `${rootKey.keyName}:${rootKey.secret}`,
        realtimeClientOptions: clientOptions,
        ...(defects.tokenFullCapability ? { tokenFullCapability: true } : {}),
        ...(defects.historyDropsNewest ? { historyDefect: 'drops-newest' as const } : defects.historyOldestFirst ? { historyDefect: 'oldest-first' as const } : defects.historyOverlap ? { historyDefect: 'overlap' as const } : {}),
        ...(opts.tokenTtlMs ? { tokenTtlMs: opts.tokenTtlMs } : {}),
      }),
      // One after another: the first to start takes the leader lock and is the active one.
      (async () => {
        for (const c of connectors) await c.start();
      })(),
    ]);
    if (fnStart.status === 'fulfilled') own('functions', fnStart.value.part);
    if (fnStart.status === 'rejected') throw fnStart.reason;
    if (connectorsStart.status === 'rejected') throw connectorsStart.reason;
    const functions = fnStart.value.functions;
    const fnUrl = new URL(functions.url);
    const fnAt = await maybeProxy(wanted, 'clients-functions', { host: fnUrl.hostname, port: Number(fnUrl.port) }, links);
    const connector = connectors[0]!;
    progress(`connector${connectors.length > 1 ? `s (${connectors.length}, one active)` : ''} running (pid ${connectors.map((c) => c.pid()).join(', ')}), health at ${connector.healthUrl}`);

    let web: StartedWeb | undefined;
    if (opts.web) {
      web = await startWebServer({ dir: opts.web.dir, functionsUrl: functions.url, realtimeClientOptions: clientOptions, ...(opts.web.port !== undefined ? { port: opts.web.port } : {}) });
      stops.push({ name: 'web', stop: web.stop });
      progress(`chat web app at ${web.url}`);
    }

    return {
      postgres,
      realtime,
      lambda,
      rules,
      functions,
      connector,
      connectorControl: connector,
      connectors,
      ...(web ? { web } : {}),
      realtimeClientOptions: { ...clientOptions, port: clientsRt.port } as Ably.ClientOptions,
      links,
      endpoints: {
        databaseUrl,
        realtime: { host: realtime.host, port: realtime.port, tls: false, apiKey: realtime.apiKey },
        tokenUrl: viaProxy(functions.tokenUrl, fnAt),
        loginUrl: viaProxy(functions.loginUrl, fnAt),
        historyUrl: viaProxy(functions.historyUrl, fnAt),
        lambdaEndpoint: lambda.endpoint,
        lambda: { endpoint: lambda.endpoint, region: lambda.region, ...lambda.credentials },
        connectorHealthUrl: connector.healthUrl,
        admin: { url: `http://${realtime.host}:${realtime.port}/admin`, auth: 'basic-root-key' },
        ...(web ? { chatUrl: web.url } : {}),
      },
      ...(destination
        ? { destination: { file: destination.file, replayWhenQuiet: opts.eventInvokeConfig?.replayWhenQuiet ?? false, replay: () => replayFailures({ destination: destination.file, endpoint: lambda.endpoint, region: lambda.region, credentials: lambda.credentials }) } }
        : {}),
      quiesce: (timeoutMs) => quiesceStack({ realtime: rt.part, lambda: lambdaStart.value.part, connectors }, timeoutMs),
      processes: () => [
        ...postgresProcess(postgres),
        ...parts.flatMap((p) => (p.pid() ? [{ part: p.part, pid: p.pid()! }] : [])),
        ...connectors.flatMap((c) => (c.pid() ? [{ part: `connector ${c.name}`, pid: c.pid()! }] : [])),
        { part: 'harness (generator)', pid: process.pid },
      ],
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** The Lambda part's asynchronous-invocation config: the run's time scale, and the destination if any. */
function lambdaAsync(opts: StackOptions, destination: { file: string } | undefined): { async?: { timeScale?: number; maxEventAgeMs?: number; onFailure?: { destination: string } } } {
  const cfg = {
    ...(opts.timeScale !== undefined ? { timeScale: opts.timeScale } : {}),
    ...(opts.eventInvokeConfig?.maxEventAgeMs !== undefined ? { maxEventAgeMs: opts.eventInvokeConfig.maxEventAgeMs } : {}),
    ...(destination ? { onFailure: { destination: destination.file } } : {}),
  };
  return Object.keys(cfg).length ? { async: cfg } : {};
}

function postgresProcess(pg: StartedPostgres): Array<{ part: string; pid: number }> {
  const pid = pg.pid?.();
  return pid ? [{ part: 'postgres', pid }] : [];
}
