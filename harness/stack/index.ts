/**
 * The stack: every service of the architecture, started in dependency order (Postgres, realtime
 * service, Lambda endpoint + integration rules, functions server, connector, web origin) and
 * stopped in reverse, also on failure and Ctrl-C. Each part is a builder with start() -> handle.
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type * as Ably from 'ably';
import pino from 'pino';
import pg from 'pg';
import { dropWalSlot, parseConnectorConfig } from '../../connector/src/index.ts';
import { channelWildcard, INCOMING_CHANNEL_TEMPLATE } from '../../reference-app/contract/index.ts';
import { migrate } from '../../reference-app/db/migrate.ts';
import { createChatWriter } from '../../reference-app/functions/chat-writer.ts';
import { startFunctionsServer, type StartedFunctionsServer } from '../../reference-app/functions/server.ts';
import { LambdaService, type StartedLambda } from '../lambda/index.ts';
import { RealtimeService, type StartedRealtime } from '../realtime/index.ts';
import { attachRules, loadRules, type AttachedRules } from '../realtime/rules/index.ts';
import { registerCleanup } from '../lib/cleanup.ts';
import { ConnectorProcess } from './connector-process.ts';
import { maybeProxy, viaProxy, type LinkName, type StartedLinks } from './links.ts';
import { describeDefects, type PlantedDefects } from './defects.ts';
import { PostgresService, type PgProviderName, type StartedPostgres } from './postgres/index.ts';
import { startWebServer, type StartedWeb } from './web.ts';

export const DEFAULT_RULES = fileURLToPath(new URL('../realtime/rules/chat-rules.json', import.meta.url));
export const ORDERED_RULES = fileURLToPath(new URL('../realtime/rules/chat-rules.ordered.json', import.meta.url));

export interface StackOptions {
  pg?: PgProviderName;
  databaseUrl?: string;
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
  /** Serve the generated web app from this folder and report `chatUrl`. */
  web?: { dir: string };
  /** A run's seed: the integration rules' delays and duplicates and the connector's backoff draw from it. */
  seed?: number;
  /** Stop after Postgres (the foundation alone). */
  postgresOnly?: boolean;
  onProgress?: (msg: string) => void;
}

export interface StackEndpoints {
  databaseUrl: string;
  realtime?: { host: string; port: number; tls: boolean; apiKey: string };
  tokenUrl?: string;
  loginUrl?: string;
  historyUrl?: string;
  lambdaEndpoint?: string;
  connectorHealthUrl?: string;
  chatUrl?: string;
}

export interface StartedStack {
  postgres: StartedPostgres;
  realtime?: StartedRealtime;
  lambda?: StartedLambda;
  /** The integration rules (realtime -> Lambda): stats, drain, and a record of every invocation. */
  rules?: AttachedRules;
  functions?: StartedFunctionsServer;
  /** The first connector process (a crash-and-restart target). */
  connector?: ConnectorProcess;
  /** The same process as `connector`, under the name the nemesis and property tests use: kill(), stop(), start(), restart(how). */
  connectorControl?: ConnectorProcess;
  /** Every connector process (more than one when a standby runs). */
  connectors: ConnectorProcess[];
  web?: StartedWeb;
  endpoints: Required<Omit<StackEndpoints, 'chatUrl'>> & { chatUrl?: string };
  /** ably client options (minus auth) for the realtime service. */
  realtimeClientOptions: Ably.ClientOptions;
  /** Resolves when no write is queued in the rules or the connector's outbox (or at the deadline). */
  quiesce(timeoutMs: number): Promise<void>;
  /** Proxies of the links the run asked for. */
  links: StartedLinks;
  /** The OS processes of the stack, for per-part CPU and memory. */
  processes(): Array<{ part: string; pid: number }>;
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

const quietLogger = () => pino({ level: process.env.LOG_LEVEL ?? 'error' }, pino.destination(2));

export async function startStack(opts: StackOptions = {}): Promise<StartedStack> {
  const progress = opts.onProgress ?? (() => {});
  const stops: Array<{ name: string; stop: () => Promise<void> }> = [];
  let stopped = false;
  const stopAll = async () => {
    if (stopped) return;
    stopped = true;
    unregister();
    for (const s of stops.reverse()) await s.stop().catch((err) => process.stderr.write(`stopping ${s.name}: ${String(err)}\n`));
  };
  const unregister = registerCleanup({ name: 'stack', stop: stopAll });
  try {
    const postgres = await new PostgresService({
      ...(opts.pg ? { provider: opts.pg } : {}),
      ...(opts.databaseUrl ? { databaseUrl: opts.databaseUrl } : {}),
    }).start();
    stops.push({ name: 'postgres', stop: postgres.stop });
    progress(`postgres (${postgres.provider}) ready in ${postgres.startupMs.toFixed(0)} ms`);
    const applied = await migrate(postgres.connectionUri);
    if (applied.length) progress(`migrations applied: ${applied.join(', ')}`);
    const databaseUrl = postgres.connectionUri;
    if (opts.postgresOnly) {
      const processes = () => [...postgresProcess(postgres), { part: 'harness', pid: process.pid }];
      return { postgres, connectors: [], links: {}, endpoints: { databaseUrl } as StartedStack['endpoints'], realtimeClientOptions: {}, quiesce: async () => {}, processes, stop: stopAll };
    }

    const secret = () => randomBytes(18).toString('base64url');
    const rootKey = { keyName: 'chat.root', secret: secret() };
    const connectorKey = { keyName: 'chat.connector', secret: secret(), capability: { [channelWildcard('incoming')]: ['publish'] } };
    const logger = quietLogger();
    const realtime = await new RealtimeService({ keys: [rootKey, connectorKey], logger }).start();
    stops.push({ name: 'realtime', stop: realtime.stop });
    progress(`realtime service on ${realtime.host}:${realtime.port}`);

    const defects = opts.defects ?? {};
    if (describeDefects(defects).length) progress(`PLANTED DEFECTS: ${describeDefects(defects).join(', ')}`);
    const wanted = opts.links ?? [];
    const links: StartedLinks = {};
    stops.push({ name: 'links', stop: async () => void (await Promise.all(Object.values(links).map((l) => l.stop()))) });
    const pgAt = { host: postgres.host, port: postgres.port };
    const writerDb = viaProxy(databaseUrl, await maybeProxy(wanted, 'writer-db', pgAt, links));
    const connectorDb = viaProxy(databaseUrl, await maybeProxy(wanted, 'connector-db', pgAt, links));
    const connectorRt = await maybeProxy(wanted, 'connector-realtime', { host: realtime.host, port: realtime.port }, links);
    const clientsRt = await maybeProxy(wanted, 'clients-realtime', { host: realtime.host, port: realtime.port }, links);
    const chatWriter = createChatWriter({
      databaseUrl: writerDb,
      plantedDefects: { firstOnly: defects.writerFirstOnly === true, noAuthorCheck: defects.writerNoAuthorCheck === true },
    });
    const lambda = await new LambdaService({ functions: { 'chat-writer': chatWriter }, logger }).start();
    stops.push({ name: 'lambda', stop: async () => (await lambda.stop(), await chatWriter.close()) });
    let ruleSet = loadRules(opts.rulesFile ?? DEFAULT_RULES);
    // A first-message-only writer is harmless until envelopes carry several messages.
    if (defects.writerFirstOnly) ruleSet = ruleSet.map((r) => ({ ...r, batching: { enabled: true, maxMessages: 10, maxDelayMs: 50 } }));
    if (opts.seed !== undefined) ruleSet = ruleSet.map((r) => ({ ...r, seed: r.seed ?? opts.seed }));
    const rules = attachRules(realtime, ruleSet, lambda, { logger });
    stops.push({ name: 'rules', stop: rules.stop });
    progress(`lambda endpoint ${lambda.endpoint} with chat-writer; rules attached`);

    const clientOptions = realtime.clientOptions();
    const functions = await startFunctionsServer({
      databaseUrl,
      ablyKey: `${rootKey.keyName}:${rootKey.secret}`,
      realtimeClientOptions: clientOptions,
      ...(defects.tokenFullCapability ? { tokenFullCapability: true } : {}),
      ...(opts.tokenTtlMs ? { tokenTtlMs: opts.tokenTtlMs } : {}),
    });
    stops.push({ name: 'functions', stop: functions.stop });
    const fnUrl = new URL(functions.url);
    const fnAt = await maybeProxy(wanted, 'clients-functions', { host: fnUrl.hostname, port: Number(fnUrl.port) }, links);

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
      const c = new ConnectorProcess(i === 0 ? 'primary' : `standby-${i}`, seeded, defects.connectorNoWait ? { plantedDefect: 'publish-without-waiting' } : {});
      connectors.push(c);
      stops.push({ name: `connector ${c.name}`, stop: () => c.shutdown() });
      await c.start();
    }
    const connector = connectors[0]!;
    progress(`connector${connectors.length > 1 ? `s (${connectors.length}, one active)` : ''} running (pid ${connectors.map((c) => c.pid()).join(', ')}), health at ${connector.healthUrl}`);

    let web: StartedWeb | undefined;
    if (opts.web) {
      web = await startWebServer({ dir: opts.web.dir, functionsUrl: functions.url, realtimeClientOptions: clientOptions });
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
        connectorHealthUrl: connector.healthUrl,
        ...(web ? { chatUrl: web.url } : {}),
      },
      quiesce: async (timeoutMs) => {
        const deadline = performance.now() + timeoutMs;
        const withDeadline = (p: Promise<unknown>) =>
          Promise.race([p, new Promise((r) => setTimeout(r, Math.max(0, deadline - performance.now())))]);
        await withDeadline(rules.drain());
        await withDeadline(lambda.drain());
        // Quiet means an active connector with nothing left to publish (a restarted one may still be catching up).
        while (performance.now() < deadline) {
          const health = await Promise.all(connectors.map((c) => c.health()));
          if (health.some((h) => h?.active && h.backlog === 0)) break;
          await new Promise((r) => setTimeout(r, 50));
        }
      },
      processes: () => [
        ...postgresProcess(postgres),
        ...connectors.flatMap((c) => (c.pid() ? [{ part: `connector ${c.name}`, pid: c.pid()! }] : [])),
        { part: 'harness (realtime, lambda, functions, generator)', pid: process.pid },
      ],
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

function postgresProcess(pg: StartedPostgres): Array<{ part: string; pid: number }> {
  const pid = pg.pid?.();
  return pid ? [{ part: 'postgres', pid }] : [];
}
