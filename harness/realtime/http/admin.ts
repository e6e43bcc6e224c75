/**
 * Operations endpoints: the nemesis's fault controls, Prometheus metrics, health, and the
 * connectivity checks the SDK makes when a connection is slow.
 */
import type { ServerResponse } from 'node:http';
import { z } from 'zod';
import type { RealtimeCore } from '../core.ts';
import { Errors } from '../protocol/errors.ts';
import { send, sendText } from './respond.ts';

export const CONNECTIVITY_PATH = '/connectivity-check';
export const WS_CONNECTIVITY_PATH = '/ws-connectivity-check';

const fractionSchema = z.coerce.number().min(0).max(1);
const msSchema = z.coerce.number().int().min(0).max(600_000);
const seedSchema = z.coerce.number().int();

function param<T>(url: URL, name: string, schema: z.ZodType<T>, fallback?: T): T {
  const raw = url.searchParams.get(name);
  if (raw === null) {
    if (fallback !== undefined) return fallback;
    throw Errors.badRequest(`Missing query parameter ${name}`);
  }
  const r = schema.safeParse(raw);
  if (!r.success) throw Errors.badRequest(`Invalid query parameter ${name}="${raw}": ${r.error.issues[0]?.message}`);
  return r.data;
}

type AdminRoute = (core: RealtimeCore, url: URL, res: ServerResponse, metrics: () => Promise<string>) => Promise<void> | void;

const routes: Record<string, Record<string, AdminRoute>> = {
  '/admin/drop': {
    // `seed` makes the choice of sockets part of a reproducible run.
    POST: (core, url, res) => {
      const seed = url.searchParams.has('seed') ? param(url, 'seed', seedSchema) : undefined;
      send(res, 200, { dropped: core.dropConnections(param(url, 'fraction', fractionSchema, 1), seed) }, 'json');
    },
  },
  '/admin/pause': { POST: (core, _u, res) => (core.outbox.pause(), send(res, 200, core.outbox.state, 'json')) },
  '/admin/resume': { POST: (core, _u, res) => (core.outbox.resume(), send(res, 200, core.outbox.state, 'json')) },
  '/admin/delay': { POST: (core, url, res) => (core.outbox.setDelay(param(url, 'ms', msSchema)), send(res, 200, core.outbox.state, 'json')) },
  '/health': {
    GET: (core, _u, res) => send(res, 200, { status: 'ok', serverId: core.serverId, connections: core.liveConnections(), resumable: core.connections.size - core.liveConnections(), channels: core.channels.size, delivery: core.outbox.state }, 'json'),
  },
  '/metrics': { GET: async (_c, _u, res, metrics) => sendText(res, 200, await metrics(), 'text/plain; version=0.0.4; charset=utf-8') },
  // With a custom connectivity URL the SDK only checks for a 2xx; "yes" is what Ably's own check returns.
  [CONNECTIVITY_PATH]: { GET: (_c, _u, res) => sendText(res, 200, 'yes') },
};

export function adminRoute(method: string, path: string): AdminRoute | 'method' | undefined {
  const table = routes[path];
  if (!table) return undefined;
  return table[method] ?? 'method';
}

