import * as Ably from 'ably';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ablyEnvOptions, type StartedRealtime } from './index.ts';
import { startTestService } from './testing.ts';

let svc: StartedRealtime;
beforeAll(async () => {
  ({ svc } = await startTestService());
});
afterAll(async () => {
  await svc.stop();
});

describe('ablyEnvOptions', () => {
  it('without ABLY_HOST means real Ably: just the key', () => {
    expect(ablyEnvOptions({ ABLY_API_KEY: 'app.key:secret' })).toEqual({ key: 'app.key:secret' });
  });

  it('points the unmodified SDK at the local service', async () => {
    const env = { ABLY_API_KEY: svc.apiKey, ABLY_HOST: svc.host, ABLY_PORT: String(svc.port), ABLY_TLS: 'false' };
    const opts = ablyEnvOptions(env);
    expect(opts).toMatchObject({ key: svc.apiKey, endpoint: '127.0.0.1', port: svc.port, tls: false });
    const rest = new Ably.Rest({ ...opts, logLevel: 0 });
    expect(Math.abs((await rest.time()) - Date.now())).toBeLessThan(1000);
    const rt = new Ably.Realtime({ ...opts, logLevel: 0 });
    try {
      await rt.connection.whenState('connected');
    } finally {
      rt.close();
    }
  });

  it('uses the host options for a bare host name, which the SDK would read as a routing policy', () => {
    expect(ablyEnvOptions({ ABLY_API_KEY: 'a.b:c', ABLY_HOST: 'realtime', ABLY_PORT: '8080', ABLY_TLS: 'false' })).toMatchObject({
      restHost: 'realtime',
      realtimeHost: 'realtime',
      fallbackHosts: [],
      port: 8080,
      tls: false,
    });
    expect(ablyEnvOptions({ ABLY_API_KEY: 'a.b:c', ABLY_HOST: 'ably.example.com', ABLY_PORT: '8443' })).toMatchObject({ endpoint: 'ably.example.com', tls: true, tlsPort: 8443 });
  });

  it.each([
    [{}, /ABLY_API_KEY.*required/],
    [{ ABLY_API_KEY: 'nocolon' }, /ABLY_API_KEY="nocolon".*appId\.keyId:secret/],
    [{ ABLY_API_KEY: 'a.b:c', ABLY_HOST: 'h.x', ABLY_PORT: '99999' }, /ABLY_PORT="99999"/],
    [{ ABLY_API_KEY: 'a.b:c', ABLY_HOST: 'h.x', ABLY_TLS: 'no' }, /ABLY_TLS="no".*"true" or "false"/],
    [{ ABLY_API_KEY: 'a.b:c', ABLY_PORT: '80' }, /need ABLY_HOST/],
  ])('rejects %j naming the variable', (env, message) => {
    expect(() => ablyEnvOptions(env)).toThrow(message);
  });
});
