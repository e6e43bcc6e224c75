/**
 * Builds the browser's ably Realtime client: the endpoint comes from `/api/config` (empty means
 * real Ably), the token from `/api/token`. authCallback rather than authUrl so that a missing
 * session (401) is told apart from a network failure: the SDK calls it again by itself before
 * the token expires, which is the silent renewal.
 */
import * as Ably from 'ably';
import { fetchRealtimeOptions, fetchTokenRequest } from './api.ts';

export interface RealtimeHooks {
  /** The token endpoint answered 401: the session cookie is gone or expired. */
  onSignedOut(): void;
}

export async function createRealtime(hooks: RealtimeHooks): Promise<Ably.Realtime> {
  const endpointOptions = await fetchRealtimeOptions();
  const options: Ably.ClientOptions = {
    ...(endpointOptions as Ably.ClientOptions),
    authCallback: (_params, callback) => {
      fetchTokenRequest().then(
        (tokenRequest) => {
          if (tokenRequest) return callback(null, tokenRequest as Ably.TokenRequest);
          hooks.onSignedOut();
          // 403 makes the SDK give up instead of retrying a session that no longer exists.
          callback({ code: 40101, statusCode: 403, message: 'not signed in' } as Ably.ErrorInfo, null);
        },
        (err: unknown) => callback(err instanceof Error ? err.message : String(err), null),
      );
    },
    logLevel: 1,
  };
  return new Ably.Realtime(options);
}
