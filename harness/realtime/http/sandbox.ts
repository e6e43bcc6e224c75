/**
 * Ably's sandbox app provisioning (`POST /apps`, `DELETE /apps/:id`), as ably-js's test suite
 * uses it against a local server: the spec's keys (with capabilities), namespaces, presence
 * fixtures and limits become an app, and the reply says where to connect. Only served when the
 * service runs with `sandbox: true` (`npm run realtime -- --sandbox`).
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { canonicalCapability, FULL_CAPABILITY, parseCapability } from '../auth/capability.ts';
import { generateKey, apiKeyString } from '../auth/keys.ts';
import type { RealtimeCore } from '../core.ts';
import { PresenceAction } from '../protocol/constants.ts';
import { Errors } from '../protocol/errors.ts';
import { payloadFromWire } from '../protocol/payload.ts';
import { authenticate } from './rest-auth.ts';
import { readDecoded, send } from './respond.ts';

const appSpecSchema = z.object({
  keys: z.array(z.object({ capability: z.string().optional(), revocableTokens: z.boolean().optional() }).loose()).min(1),
  namespaces: z.array(z.object({ id: z.string().min(1) }).loose()).default([]),
  channels: z
    .array(
      z.object({
        name: z.string().min(1),
        presence: z.array(z.object({ clientId: z.string().min(1), data: z.string().optional(), encoding: z.string().optional() })).default([]),
      }),
    )
    .default([]),
  limits: z.record(z.string(), z.unknown()).optional(),
});

export type AppSpec = z.infer<typeof appSpecSchema>;

export interface SandboxApp {
  appId: string;
  spec: AppSpec;
}

/** Apps created through the sandbox API; each owns the keys named "<appId>.*". */
export class SandboxApps {
  readonly apps = new Map<string, SandboxApp>();

  create(core: RealtimeCore, spec: AppSpec): Record<string, unknown> {
    const appId = `sbx${randomBytes(4).toString('hex')}`;
    const keys = spec.keys.map((k) => {
      const key = { ...generateKey(appId), revocableTokens: k.revocableTokens ?? false };
      const capability = k.capability ? parseCapability(k.capability) : FULL_CAPABILITY;
      core.keys.add(key, capability);
      const keyId = key.keyName.slice(appId.length + 1);
      return {
        id: keyId,
        appId,
        keyName: key.keyName,
        keySecret: key.secret,
        keyStr: apiKeyString(key),
        value: apiKeyString(key),
        capability: canonicalCapability(capability),
        revocableTokens: k.revocableTokens ?? false,
        status: 0,
        expires: null,
      };
    });
    for (const ch of spec.channels) this.addFixtures(core, appId, ch);
    this.apps.set(appId, { appId, spec });
    core.log.info({ appId, keys: keys.length }, 'sandbox app created');
    return { appId, accountId: `acc-${appId}`, id: appId, status: 0, keys, namespaces: spec.namespaces, ...(spec.limits ? { limits: spec.limits } : {}) };
  }

  private addFixtures(core: RealtimeCore, appId: string, spec: AppSpec['channels'][number]): void {
    const ch = core.channel(spec.name);
    const now = Date.now();
    // Fixture members belong to no connection, so no connection's departure ever removes them.
    const connectionId = `fixture-${appId}`;
    spec.presence.forEach((p, i) => {
      const payload = payloadFromWire({ data: p.data ?? null, encoding: p.encoding ?? null });
      const member = { clientId: p.clientId, connectionId, id: `${connectionId}:0:${i}`, timestamp: now, ...payload };
      ch.presence.set(`${p.clientId}:${connectionId}`, member);
      ch.recordPresence([{ action: PresenceAction.ENTER, member }], now);
    });
  }

  remove(core: RealtimeCore, appId: string): boolean {
    if (!this.apps.delete(appId)) return false;
    core.keys.removeApp(appId);
    return true;
  }
}

type SandboxRoute = (core: RealtimeCore, apps: SandboxApps, req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>;

const createApp: SandboxRoute = async (core, apps, req, res) => {
  const parsed = appSpecSchema.safeParse(await readDecoded(req, 1 << 20));
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw Errors.badRequest(`Invalid app spec: ${i?.path.join('.') || 'body'}: ${i?.message}`);
  }
  const app = apps.create(core, parsed.data);
  // Tell the caller where this app lives: this very server, as the client reached it.
  const host = (req.socket.localAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
  send(res, 201, { ...app, endpoint: host, port: req.socket.localPort, tls: false }, 'json');
};

const deleteApp: SandboxRoute = async (core, apps, req, res, url) => {
  const appId = decodeURIComponent(url.pathname.split('/')[2] ?? '');
  const caller = authenticate(core, req, url);
  if (!caller.identity.keyName.startsWith(`${appId}.`)) throw Errors.notFound(`No app "${appId}" for these credentials`);
  apps.remove(core, appId);
  res.writeHead(204);
  res.end();
};

/** The sandbox route for a method and path, 'method' for a known path with the wrong method, or undefined. */
export function sandboxRoute(method: string, seg: string[]): SandboxRoute | 'method' | undefined {
  if (seg[0] !== 'apps') return undefined;
  if (seg.length === 1) return method === 'POST' ? createApp : 'method';
  if (seg.length === 2 && seg[1]) return method === 'DELETE' ? deleteApp : 'method';
  return undefined;
}
