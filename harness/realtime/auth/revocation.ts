/**
 * Token revocation as Ably's `POST /keys/:keyName/revokeTokens` defines it: a target
 * ("clientId:x", "revocationKey:x" or "channel:x") revokes the key's tokens issued before
 * `issuedBefore` (default: now), from `appliesAt` on (now, or 30 s later with
 * `allowReauthMargin`, so clients can get new tokens first).
 */
import { z } from 'zod';
import { Errors, type ErrorInfoWire } from '../protocol/errors.ts';
import { resourceMatches } from './capability.ts';
import type { Identity } from './tokens.ts';

const TARGET_TYPES = ['clientId', 'revocationKey', 'channel'] as const;
type TargetType = (typeof TARGET_TYPES)[number];

/** Ably's margin for `allowReauthMargin`: clients get this long to re-authenticate. */
export const REAUTH_MARGIN_MS = 30_000;
/** No token outlives this (the maximum ttl), so older revocations can be forgotten. */
const MAX_TOKEN_LIFE_MS = 24 * 60 * 60 * 1000;

export const revokeRequestSchema = z.object({
  targets: z.array(z.string(), { error: 'targets: expected an array of "type:value" strings' }).min(1, 'targets: at least one target is required'),
  issuedBefore: z.number({ error: 'issuedBefore: expected a time in ms since the epoch' }).int().positive().optional(),
  allowReauthMargin: z.boolean({ error: 'allowReauthMargin: expected a boolean' }).optional(),
});

export type RevokeRequest = z.infer<typeof revokeRequestSchema>;

interface Revocation {
  keyName: string;
  type: TargetType;
  value: string;
  issuedBefore: number;
  appliesAt: number;
}

export type RevocationResult = { target: string; issuedBefore: number; appliesAt: number } | { target: string; error: ErrorInfoWire };

export class Revocations {
  private list: Revocation[] = [];

  constructor(private readonly now: () => number = Date.now) {}

  /** Records the request's valid targets; each target gets its own result, an invalid one an error. */
  revoke(keyName: string, req: RevokeRequest): { results: RevocationResult[]; appliesAt: number[] } {
    const now = this.now();
    this.list = this.list.filter((r) => r.issuedBefore + MAX_TOKEN_LIFE_MS > now);
    const issuedBefore = req.issuedBefore ?? now;
    const appliesAt = req.allowReauthMargin ? now + REAUTH_MARGIN_MS : now;
    const times: number[] = [];
    const results = req.targets.map((target): RevocationResult => {
      const i = target.indexOf(':');
      const type = target.slice(0, Math.max(0, i));
      const value = target.slice(i + 1);
      if (i <= 0 || !value || !(TARGET_TYPES as readonly string[]).includes(type)) {
        return { target, error: Errors.badRequest(`Invalid target "${target.slice(0, 100)}": expected "type:value" with type one of ${TARGET_TYPES.join(', ')}`).toWire() };
      }
      this.list.push({ keyName, type: type as TargetType, value, issuedBefore, appliesAt });
      times.push(appliesAt);
      return { target, issuedBefore, appliesAt };
    });
    return { results, appliesAt: times };
  }

  /** Whether a token identity is revoked now (keys, `basic`, never are). */
  isRevoked(id: Identity): boolean {
    if (id.method !== 'token' || id.issued === undefined || !this.list.length) return false;
    const now = this.now();
    return this.list.some((r) => r.keyName === id.keyName && r.appliesAt <= now && id.issued! < r.issuedBefore && matches(r, id));
  }
}

function matches(r: Revocation, id: Identity): boolean {
  switch (r.type) {
    case 'clientId':
      return id.clientId === r.value || (id.wildcard && r.value === '*');
    case 'channel':
      return Object.keys(id.capability).some((res) => resourceMatches(res, r.value));
    case 'revocationKey':
      // Only JWTs carry one (`x-ably-revocation-key`); the service's own tokens never match.
      return id.revocationKey !== undefined && id.revocationKey === r.value;
  }
}
