/**
 * A stack the harness does not start: a deployment reached through its endpoints (real Ably and
 * AWS, or another machine's `npm run stack`). The workload and the checkers do not change; what
 * the harness cannot do there is drain the integration or inject faults into parts it does not own.
 *
 * Target file: the JSON `npm run stack -- --json` prints, or written by hand:
 *   { "databaseUrl": "postgres://…", "loginUrl": "https://…/api/login", "tokenUrl": "…/api/token",
 *     "historyUrl": "…/api/rooms", "realtime": { "host": "127.0.0.1", "port": 8080, "tls": false } }
 * `realtime` without `host` means Ably itself. Environment instead of a file: DATABASE_URL,
 * CHAT_FUNCTIONS_URL (the base the /api routes hang off), ABLY_HOST, ABLY_PORT, ABLY_TLS.
 */
import { readFileSync } from 'node:fs';
import type * as Ably from 'ably';
import { z } from 'zod';
import type { SystemUnderTest } from './roles.ts';

const targetSchema = z.strictObject({
  databaseUrl: z.string().regex(/^postgres(ql)?:\/\//, 'expected a postgres:// URL'),
  loginUrl: z.url(),
  tokenUrl: z.url(),
  historyUrl: z.url(),
  realtime: z
    .object({ host: z.string().min(1).optional(), port: z.number().int().min(1).max(65535).optional(), tls: z.boolean().default(true) })
    .default({ tls: true }),
  // What `npm run stack -- --json` also prints; accepted and unused here.
  lambdaEndpoint: z.string().optional(),
  lambda: z.strictObject({ endpoint: z.string(), region: z.string(), accessKeyId: z.string(), secretAccessKey: z.string() }).optional(),
  connectorHealthUrl: z.string().optional(),
  admin: z.strictObject({ url: z.string(), auth: z.literal('basic-root-key') }).optional(),
  chatUrl: z.string().optional(),
});

export type Target = z.infer<typeof targetSchema>;

export function parseTarget(raw: unknown, where: string): Target {
  const r = targetSchema.safeParse(raw);
  if (r.success) return r.data;
  const i = r.error.issues[0]!;
  const key = i.code === 'unrecognized_keys' ? i.keys.join(', ') : i.path.join('.');
  throw new Error(`${where}: ${key || '(root)'}: ${i.message}`);
}

export function loadTarget(file: string): Target {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`target file ${file}: ${(err as Error).message}`);
  }
  // `realtime.apiKey` is what the stack prints for server-side parts; clients never use it.
  if (raw && typeof raw === 'object' && 'realtime' in raw) {
    const { apiKey: _unused, ...rt } = (raw as { realtime: Record<string, unknown> }).realtime;
    raw = { ...raw, realtime: rt };
  }
  return parseTarget(raw, `target file ${file}`);
}

export function targetFromEnv(env: NodeJS.ProcessEnv): Target {
  const base = env.CHAT_FUNCTIONS_URL?.replace(/\/$/, '');
  if (!base) throw new Error('CHAT_FUNCTIONS_URL: expected the base URL of the chat functions (login, token, history)');
  return parseTarget(
    {
      databaseUrl: env.DATABASE_URL,
      loginUrl: `${base}/api/login`,
      tokenUrl: `${base}/api/token`,
      historyUrl: `${base}/api/rooms`,
      realtime: {
        ...(env.ABLY_HOST ? { host: env.ABLY_HOST } : {}),
        ...(env.ABLY_PORT ? { port: Number(env.ABLY_PORT) } : {}),
        tls: env.ABLY_TLS ? env.ABLY_TLS !== 'false' : true,
      },
    },
    'environment',
  );
}

/** The realtime client options for a target: endpoint options only where it is not Ably itself. */
function clientOptions(t: Target): Ably.ClientOptions {
  const { host, port, tls } = t.realtime;
  if (!host) return {};
  const hostPort = `${host}${port ? `:${port}` : ''}`;
  return {
    endpoint: host,
    tls,
    ...(port ? (tls ? { tlsPort: port } : { port }) : {}),
    fallbackHosts: [],
    connectivityCheckUrl: `${tls ? 'https' : 'http'}://${hostPort}/connectivity-check`,
    wsConnectivityCheckUrl: `${tls ? 'wss' : 'ws'}://${hostPort}/ws-connectivity-check`,
  } as Ably.ClientOptions;
}

/** A deployment the harness only reaches is a system under test and nothing more: it offers no fault targets. */
export function connectTarget(t: Target): SystemUnderTest {
  return {
    endpoints: { databaseUrl: t.databaseUrl, loginUrl: t.loginUrl, tokenUrl: t.tokenUrl, historyUrl: t.historyUrl },
    realtimeClientOptions: clientOptions(t),
    // Nothing to drain from here: the run's quiet period (no delivery for a while) stands in.
    quiesce: async () => ({ settled: true, waiting: [] }),
  };
}
