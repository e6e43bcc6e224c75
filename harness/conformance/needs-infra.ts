/**
 * ably-js tests that cannot pass against any local server: they fetch tokens or error answers
 * from Ably's echo server (https://echo.ably.io) or another host on the internet. Each waits out
 * its 60 s timeout offline (twice with a retry), which makes `realtime/auth` alone take ~20 min.
 * `--skip-infra` leaves them out (mocha `--grep … --invert`), by exact test title, per file.
 * Read from ably-js at tag 2.26.0 (each test's body names `echoServer`, `getJWT` or example.com).
 */
export const NEEDS_INFRA: Record<string, { titles: string[]; why: string }> = {
  'test/realtime/auth.test.js': {
    why: 'authUrl on echo.ably.io (tokens, 401/403 answers, JWTs from /createJWT) or example.com',
    titles: [
      'auth_useAuthUrl_json',
      'auth_useAuthUrl_post_json',
      'auth_useAuthUrl_plainText',
      'auth_useAuthUrl_mixed_authParams_qsParams',
      'auth_clientid_inheritance5',
      'authUrl_404',
      'authUrl_wrong_content_type',
      'authUrl_401',
      'authUrl_double_encoded',
      'authUrl_403',
      'authUrl_403_custom_error',
      'authUrl_403_previously_active',
      'auth_jwt_with_clientid',
      'auth_jwt_with_clientid_application_jwt',
      'auth_jwt_with_subscribe_only_capability',
      'realtime client mirrors the auth clientId',
      'auth_jwt_with_publish_capability',
      'auth_jwt_with_token_that_expires',
      'auth_jwt_with_token_that_renews',
      'init_client_with_simple_jwt_token',
    ],
  },
  'test/rest/auth.test.js': {
    why: 'JWTs and a capability echo from echo.ably.io',
    titles: [
      'createTokenRequest should serialise capability object as JSON',
      'Basic rest JWT',
      // The suite's own title ends with a space.
      'Rest JWT with return type ',
      'Rest embedded JWT',
      'Rest embedded JWT with encryption',
      'JWT request with invalid key',
      'Rest JWT with authCallback',
      'Rest JWT with authCallback and invalid keys',
    ],
  },
  'test/rest/request.test.js': {
    why: "rest.request() PUT/PATCH/DELETE against echo.ably.io's /methods",
    titles: ['checkput', 'checkpatch', 'checkdelete'],
  },
  'test/realtime/transports.test.js': {
    why: "a slow or failing WebSocket makes the SDK check the internet at Ably's internet-up host (the suite sets no connectivityCheckUrl); offline that check fails and the client goes DISCONNECTED instead of falling back",
    titles: ['no_ws_connectivity', 'ws_primary_host_fails', 'ws_can_reconnect_after_ws_connectivity_fail'],
  },
  'test/realtime/init.test.js': {
    why: 'a client without the endpoint option: its fallback hosts are reached on Ably\'s default port',
    titles: ['init_fallbacks_once_connected_2'],
  },
};

/** A mocha `--grep` pattern matching exactly these titles at the end of a test's full title. */
export function titlesPattern(titles: string[]): string {
  const escaped = titles.map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return `(^| )(${escaped.join('|')})$`;
}
