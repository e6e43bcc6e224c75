/** API keys this service accepts, looked up by key name ("appId.keyId"). */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { type Capability, FULL_CAPABILITY, capabilitySchema } from './capability.ts';

export interface RealtimeKey {
  /** "appId.keyId" */
  keyName: string;
  secret: string;
  /** Default {"*":["*"]} */
  capability?: Record<string, string[]>;
  /** Tokens issued with this key can be revoked (`POST /keys/:keyName/revokeTokens`), as Ably's key setting of that name. */
  revocableTokens?: boolean;
}

export const keyNameSchema = z.string().regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, 'expected "appId.keyId"');

export const realtimeKeySchema = z.object({
  keyName: keyNameSchema,
  secret: z.string().min(1).regex(/^[^:\s]+$/, 'expected a secret without ":" or spaces'),
  capability: capabilitySchema.optional(),
  revocableTokens: z.boolean().optional(),
});

/** Parses "appId.keyId:secret" (what Ably calls an API key). */
export const apiKeySchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+:[^:\s]+$/, 'expected "appId.keyId:secret"')
  .transform((s): RealtimeKey => {
    const i = s.indexOf(':');
    return { keyName: s.slice(0, i), secret: s.slice(i + 1) };
  });

export function generateKey(appId = 'local'): RealtimeKey {
  const keyId = randomBytes(4).toString('hex');
  return { keyName: `${appId}.${keyId}`, secret: randomBytes(18).toString('base64url').replace(/[-_]/g, 'x') };
}

export function apiKeyString(k: RealtimeKey): string {
  return `${k.keyName}:${k.secret}`;
}

export class KeyStore {
  private readonly byName = new Map<string, { key: RealtimeKey; capability: Capability }>();

  constructor(keys: RealtimeKey[]) {
    for (const k of keys) this.byName.set(k.keyName, { key: k, capability: k.capability ?? FULL_CAPABILITY });
  }

  get(keyName: string): { key: RealtimeKey; capability: Capability } | undefined {
    return this.byName.get(keyName);
  }

  add(k: RealtimeKey, capability: Capability = FULL_CAPABILITY): void {
    this.byName.set(k.keyName, { key: k, capability });
  }

  /** Forgets every key of an app ("appId." prefix): its tokens stop working too. */
  removeApp(appId: string): number {
    let n = 0;
    for (const name of [...this.byName.keys()]) if (name.startsWith(`${appId}.`) && this.byName.delete(name)) n++;
    return n;
  }

  all(): RealtimeKey[] {
    return [...this.byName.values()].map((v) => v.key);
  }
}
