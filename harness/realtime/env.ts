/**
 * The realtime target contract of docs/architecture.md as ably client options: ABLY_API_KEY, and for an
 * endpoint other than Ably's own ABLY_HOST, ABLY_PORT, ABLY_TLS. No host means real Ably.
 */
import { z } from 'zod';

export interface AblyEnvOptions {
  key: string;
  endpoint?: string;
  restHost?: string;
  realtimeHost?: string;
  fallbackHosts?: string[];
  port?: number;
  tlsPort?: number;
  tls?: boolean;
  connectivityCheckUrl?: string;
  wsConnectivityCheckUrl?: string;
}

const unsetIfEmpty = (v: unknown) => (v === '' ? undefined : v);
const envSchema = z.object({
  ABLY_API_KEY: z.string({ error: 'is required ("appId.keyId:secret")' }).regex(/^[^.:\s]+\.[^.:\s]+:\S+$/, 'expected "appId.keyId:secret"'),
  ABLY_HOST: z.preprocess(unsetIfEmpty, z.string().regex(/^[A-Za-z0-9.:[\]-]+$/, 'expected a host name or IP address').optional()),
  ABLY_PORT: z.preprocess(unsetIfEmpty, z.coerce.number().int().min(1).max(65535).optional()),
  ABLY_TLS: z.preprocess(unsetIfEmpty, z.enum(['true', 'false'], { error: 'expected "true" or "false"' }).optional()),
});

export function ablyEnvOptions(env: Record<string, string | undefined> = process.env): AblyEnvOptions {
  const r = envSchema.safeParse(env);
  if (!r.success) {
    const i = r.error.issues[0];
    const name = String(i?.path[0] ?? 'ABLY_*');
    throw new Error(`invalid ${name}=${JSON.stringify(env[name] ?? '')}: ${i?.message}`);
  }
  const { ABLY_API_KEY: key, ABLY_HOST: host, ABLY_PORT: port, ABLY_TLS } = r.data;
  if (!host) {
    if (port !== undefined || ABLY_TLS !== undefined) throw new Error('invalid ABLY_PORT/ABLY_TLS: they need ABLY_HOST (unset host means real Ably)');
    return { key };
  }
  const tls = ABLY_TLS !== 'false';
  const out: AblyEnvOptions = { key, tls };
  // The SDK reads an endpoint without a dot as a routing-policy name (x.realtime.ably.net), so a bare
  // host name such as a container's must go through the older host options.
  if (host.includes('.') || host.includes(':') || host === 'localhost') out.endpoint = host;
  else Object.assign(out, { restHost: host, realtimeHost: host, fallbackHosts: [] });
  if (port !== undefined) out[tls ? 'tlsPort' : 'port'] = port;
  const hostPort = `${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}${port !== undefined ? `:${port}` : ''}`;
  out.connectivityCheckUrl = `${tls ? 'https' : 'http'}://${hostPort}/connectivity-check`;
  out.wsConnectivityCheckUrl = `${tls ? 'wss' : 'ws'}://${hostPort}/ws-connectivity-check`;
  return out;
}
