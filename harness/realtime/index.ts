/** The local Ably-protocol realtime service: public API. */
export { RealtimeService, type RealtimeServiceOptions, type StartedRealtime } from './service.ts';
export type { RealtimeKey } from './auth/keys.ts';
export { apiKeySchema, realtimeKeySchema } from './auth/keys.ts';
export type { PublishedMessage } from './core.ts';
export { ablyEnvOptions, type AblyEnvOptions } from './env.ts';
export { limitsSchema, type LimitsInput } from './limits.ts';
