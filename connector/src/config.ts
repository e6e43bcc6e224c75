/**
 * The connector's configuration: the original connector's two file forms (JSON and .env) accepted
 * unchanged, plus our own settings under one clearly separated key (`extensions` in JSON,
 * `ABLY_CONNECTOR_EXTENSIONS` in .env). Everything is validated here, at the edge; later code
 * trusts the typed result.
 */
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { z } from 'zod';
import { parseDotenv } from './dotenv.ts';
import { ConfigError } from './errors.ts';
import { parseChannelTemplate, type ChannelTemplate } from './channel-template.ts';

export const OPERATIONS = ['INSERT', 'UPDATE', 'DELETE'] as const;
export type Operation = (typeof OPERATIONS)[number];

/** The message name the original connector used for every publish. */
export const ORIGINAL_MESSAGE_NAME = 'New message from the Ably/ Postgres connector';

export { ConfigError };

const operation = z.preprocess(
  (v) => (typeof v === 'string' ? v.trim().toUpperCase() : v),
  z.enum(OPERATIONS),
);

// The original control table stores these in VARCHAR(100) columns.
const mappingSchema = z.strictObject({
  tablename: z.string().min(1).max(100),
  ablychannelname: z.string().min(1).max(100),
  operation,
});

const port = z.coerce.number().int().min(1).max(65535);

const dbConfigSchema = z.strictObject({
  host: z.string().min(1).optional(),
  port: port.optional(),
  user: z.string().optional(),
  password: z.string().optional(),
  database: z.string().optional(),
});

const realtimeSchema = z.strictObject({
  host: z.string().min(1).optional(),
  port: port.optional(),
  tls: z.boolean().optional(),
  connectivityCheckUrl: z.string().url().optional(),
  wsConnectivityCheckUrl: z.string().optional(),
});

// Postgres truncates identifiers at 63 bytes and slot names allow only [a-z0-9_].
const slotName = z.string().regex(/^[a-z0-9_]{1,63}$/, 'expected 1-63 characters of a-z, 0-9 and _');

const walSchema = z.strictObject({
  /** Replication slot; default `ably_<hash of database and schema>` (slots are cluster-wide names). */
  slotName: slotName.optional(),
  /** Publication; default `ably_connector_<hash of schema>`. */
  publicationName: z.string().min(1).max(63).optional(),
  /**
   * Per table: `full` makes UPDATE and DELETE carry the whole old row (REPLICA IDENTITY FULL, set
   * by the connector); `default` leaves the table's identity alone, so DELETE carries only its key
   * and an UPDATE leaves out unchanged TOASTed columns. Tables not named here get `full`.
   */
  replicaIdentity: z.record(z.string().min(1), z.enum(['full', 'default'])).default({}),
  /** A slot with no consumer for this long is reported (log and metric): it pins WAL on the server. */
  unconsumedWarnSeconds: z.number().int().min(1).max(86_400).default(60),
  /** How often the slot's lag is read (health and metrics). */
  lagPollMs: z.number().int().min(50).max(600_000).default(1000),
});

const extensionsSchema = z.strictObject({
  /** A libpq URL used instead of (or on top of) `dbConfig`, e.g. with `?options=-c search_path=x`. */
  database: z.strictObject({ url: z.string().min(1) }).optional(),
  realtime: realtimeSchema.optional(),
  /**
   * durable: outbox + NOTIFY as wake-up (default). notify: the original's fire-and-forget NOTIFY.
   * wal: logical replication (pgoutput) from a slot; no trigger on writers.
   */
  mode: z.enum(['durable', 'notify', 'wal']).default('durable'),
  /** Settings of `mode: "wal"` only. */
  wal: walSchema.prefault({}),
  /** operation: INSERT|UPDATE|DELETE (default). original: the original connector's fixed name. */
  messageName: z.enum(['operation', 'original']).default('operation'),
  /** When true, `{column}` in ablychannelname is filled from the changed row. */
  channelTemplates: z.boolean().default(false),
  batch: z
    .strictObject({
      /** Messages per publish (one ProtocolMessage) on one channel; 1 keeps every message independently idempotent. */
      maxMessages: z.number().int().min(1).max(1000).default(1),
      /** Publishes awaiting their ack, over all channels. */
      maxInFlight: z.number().int().min(1).max(100_000).default(500),
      /** Outbox rows fetched per drain query. */
      drainLimit: z.number().int().min(1).max(100_000).default(1000),
    })
    .prefault({}),
  /**
   * Seeds the reconnect backoff's jitter (and a planted defect's delays), so a test harness can
   * replay a run; without it they are random, which is what deployments want.
   */
  seed: z.number().int().optional(),
  timing: z
    .strictObject({
      /** Drain even without a NOTIFY this often: catches lost wake-ups and probes a silent LISTEN connection. */
      pollIntervalMs: z.number().int().min(10).max(600_000).default(1000),
      /** Above this many changes/s writers stop NOTIFYing and the connector reads on its own (0: never). */
      pullAbovePerSecond: z.number().int().min(0).max(1_000_000).default(1000),
      /** How often a standby tries to take the leader lock. */
      leaderPollMs: z.number().int().min(10).max(600_000).default(250),
      /** A Postgres query that takes longer means the connection is dead. */
      queryTimeoutMs: z.number().int().min(100).max(600_000).default(5000),
      reconnectMinMs: z.number().int().min(1).max(600_000).default(100),
      reconnectMaxMs: z.number().int().min(1).max(600_000).default(5000),
      /** Graceful stop waits this long for in-flight publishes. */
      shutdownTimeoutMs: z.number().int().min(0).max(600_000).default(10_000),
    })
    .prefault({}),
});

const fileSchema = z.strictObject({
  dbConfig: dbConfigSchema.optional(),
  connector: z.array(mappingSchema).min(1),
  ably: z.strictObject({ apiKey: z.string().min(1).optional() }).optional(),
  extensions: extensionsSchema.prefault({}),
});

export interface Mapping {
  tablename: string;
  ablychannelname: string;
  operation: Operation;
  /** Parsed channel name: literal unless `channelTemplates` is on. */
  channel: ChannelTemplate;
}

export interface PgTarget {
  connectionString?: string;
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  database?: string;
}

export interface RealtimeTarget {
  apiKey: string;
  /** Unset: real Ably. */
  host?: string;
  port?: number;
  tls: boolean;
  connectivityCheckUrl?: string;
  wsConnectivityCheckUrl?: string;
}

type Extensions = z.infer<typeof extensionsSchema>;

export interface ConnectorConfig {
  db: PgTarget;
  mappings: Mapping[];
  realtime: RealtimeTarget;
  mode: Extensions['mode'];
  messageName: Extensions['messageName'];
  channelTemplates: boolean;
  batch: Extensions['batch'];
  timing: Extensions['timing'];
  wal: Extensions['wal'];
  seed?: number;
}

function describeIssues(err: z.ZodError, where: string): string {
  return err.issues
    .map((i) => {
      const path = i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
      const at = path ? `${where}.${path}` : where;
      if (i.code === 'unrecognized_keys') return i.keys.map((k) => `unknown key ${at === where ? '' : at + '.'}${k}`.replace(/ \./, ' ')).join('; ');
      return `${at}: ${i.message}`;
    })
    .join('; ');
}

function parseTls(value: string, key: string): boolean {
  const v = value.trim().toLowerCase();
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new ConfigError(`${key}: expected true or false, got ${JSON.stringify(value)}`);
}

function parsePort(value: string, key: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new ConfigError(`${key}: expected a port 1-65535, got ${JSON.stringify(value)}`);
  return n;
}

/** Validates a JSON-form config object; `env` supplies ABLY_API_KEY/HOST/PORT/TLS, which win. */
export function parseConnectorConfig(raw: unknown, env: NodeJS.ProcessEnv = process.env): ConnectorConfig {
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(`invalid connector config: ${describeIssues(parsed.error, 'config')}`);
  const file = parsed.data;
  const ext = file.extensions;

  if (ext.timing.reconnectMaxMs < ext.timing.reconnectMinMs) {
    throw new ConfigError('config.extensions.timing.reconnectMaxMs: expected >= reconnectMinMs');
  }

  if (ext.batch.drainLimit <= ext.batch.maxMessages) {
    throw new ConfigError('config.extensions.batch.drainLimit: expected more than batch.maxMessages');
  }

  const db: PgTarget = { ...(file.dbConfig ?? {}) };
  if (ext.database?.url) db.connectionString = ext.database.url;
  if (!db.connectionString && !db.host) {
    throw new ConfigError('config.dbConfig.host: expected a database host (or config.extensions.database.url)');
  }

  const rt = ext.realtime ?? {};
  const apiKey = env.ABLY_API_KEY || file.ably?.apiKey;
  if (!apiKey) throw new ConfigError('config.ably.apiKey: expected an Ably API key (or the ABLY_API_KEY environment variable)');
  if (!/^[^:\s]+\.[^:\s]+:\S+$/.test(apiKey)) {
    throw new ConfigError('config.ably.apiKey: expected "appId.keyId:secret"');
  }
  const host = env.ABLY_HOST || rt.host;
  const realtime: RealtimeTarget = {
    apiKey,
    tls: env.ABLY_TLS ? parseTls(env.ABLY_TLS, 'ABLY_TLS') : (rt.tls ?? true),
  };
  if (host) realtime.host = host;
  const p = env.ABLY_PORT ? parsePort(env.ABLY_PORT, 'ABLY_PORT') : rt.port;
  if (p !== undefined) realtime.port = p;
  if (rt.connectivityCheckUrl) realtime.connectivityCheckUrl = rt.connectivityCheckUrl;
  if (rt.wsConnectivityCheckUrl) realtime.wsConnectivityCheckUrl = rt.wsConnectivityCheckUrl;
  if (realtime.port !== undefined && !realtime.host) {
    throw new ConfigError('ABLY_PORT: a port without ABLY_HOST would still go to Ably; set ABLY_HOST too');
  }

  for (const t of Object.keys(ext.wal.replicaIdentity)) {
    if (!file.connector.some((m) => m.tablename === t)) {
      throw new ConfigError(`config.extensions.wal.replicaIdentity.${t}: no mapping names table ${JSON.stringify(t)}`);
    }
  }

  const seen = new Set<string>();
  const mappings: Mapping[] = file.connector.map((m, i) => {
    const key = `${m.tablename}\u0000${m.ablychannelname}\u0000${m.operation}`;
    if (seen.has(key)) throw new ConfigError(`config.connector[${i}]: duplicate mapping of ${m.tablename} ${m.operation} to ${m.ablychannelname}`);
    seen.add(key);
    let channel: ChannelTemplate;
    try {
      channel = ext.channelTemplates ? parseChannelTemplate(m.ablychannelname) : { parts: [m.ablychannelname], columns: [] };
    } catch (e) {
      throw new ConfigError(`config.connector[${i}].ablychannelname: ${(e as Error).message}`);
    }
    return { ...m, channel };
  });

  return {
    db,
    mappings,
    realtime,
    mode: ext.mode,
    messageName: ext.messageName,
    channelTemplates: ext.channelTemplates,
    batch: ext.batch,
    timing: ext.timing,
    wal: ext.wal,
    ...(ext.seed !== undefined ? { seed: ext.seed } : {}),
  };
}

const ENV_FORM_KEYS = new Set([
  'DB_HOST', 'DB_PORT', 'DB_USER', 'DB_PASSWORD', 'DB_NAME', 'ABLY_API_KEY', 'ABLY_CONNECTOR',
  // ours
  'ABLY_HOST', 'ABLY_PORT', 'ABLY_TLS', 'ABLY_CONNECTOR_EXTENSIONS',
]);

function jsonVar(vars: Record<string, string | undefined>, key: string): unknown {
  const text = vars[key];
  if (text === undefined || text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`${key}: expected JSON (${(e as Error).message})`);
  }
}

/** The .env form: file values, with the environment winning (as dotenv does). */
export function parseEnvForm(fileVars: Record<string, string>, env: NodeJS.ProcessEnv = process.env): ConnectorConfig {
  for (const k of Object.keys(fileVars)) {
    if (!ENV_FORM_KEYS.has(k)) throw new ConfigError(`unknown key ${k} (expected one of ${[...ENV_FORM_KEYS].join(', ')})`);
  }
  const vars: Record<string, string | undefined> = { ...fileVars };
  for (const k of ENV_FORM_KEYS) if (env[k] !== undefined) vars[k] = env[k];
  const connector = jsonVar(vars, 'ABLY_CONNECTOR');
  if (connector === undefined) throw new ConfigError('ABLY_CONNECTOR: expected a JSON array of {tablename, ablychannelname, operation}');
  const dbConfig: Record<string, unknown> = {};
  if (vars.DB_HOST) dbConfig.host = vars.DB_HOST;
  if (vars.DB_PORT) dbConfig.port = parsePort(vars.DB_PORT, 'DB_PORT');
  if (vars.DB_USER !== undefined) dbConfig.user = vars.DB_USER;
  if (vars.DB_PASSWORD !== undefined) dbConfig.password = vars.DB_PASSWORD;
  if (vars.DB_NAME !== undefined) dbConfig.database = vars.DB_NAME;
  const raw: Record<string, unknown> = { connector, dbConfig };
  if (vars.ABLY_API_KEY) raw.ably = { apiKey: vars.ABLY_API_KEY };
  const ext = jsonVar(vars, 'ABLY_CONNECTOR_EXTENSIONS');
  if (ext !== undefined) raw.extensions = ext;
  const overlay: NodeJS.ProcessEnv = {};
  for (const k of ['ABLY_API_KEY', 'ABLY_HOST', 'ABLY_PORT', 'ABLY_TLS']) if (vars[k] !== undefined) overlay[k] = vars[k];
  return parseConnectorConfig(raw, overlay);
}

function isEnvFile(path: string, text: string): boolean {
  const ext = extname(path).toLowerCase();
  if (ext === '.json') return false;
  if (ext === '.env' || basename(path).startsWith('.env')) return true;
  return !text.trimStart().startsWith('{');
}

/** Reads a config file in either form (by extension, else by content). */
export function loadConnectorConfig(path: string, env: NodeJS.ProcessEnv = process.env): ConnectorConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read config file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (isEnvFile(path, text)) return parseEnvForm(parseDotenv(text, path), env);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`${path}: expected JSON (${(e as Error).message})`);
  }
  return parseConnectorConfig(raw, env);
}
