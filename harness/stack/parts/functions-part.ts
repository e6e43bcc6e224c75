/** Process entry of the functions part (see functions-spec.ts); started by the stack with `node --import tsx`. */
import { startFunctionsServer } from '../../../reference-app/functions/server.ts';
import { runPart } from '../part-child.ts';
import { functionsPartSpec } from './functions-spec.ts';

runPart('functions', functionsPartSpec, async (config) => {
  const server = await startFunctionsServer({
    databaseUrl: config.databaseUrl,
    ablyKey: config.ablyKey,
    realtimeClientOptions: config.realtimeClientOptions,
    ...(config.tokenTtlMs ? { tokenTtlMs: config.tokenTtlMs } : {}),
    ...(config.tokenFullCapability ? { tokenFullCapability: true } : {}),
  });
  return {
    info: { url: server.url, tokenUrl: server.tokenUrl, historyUrl: server.historyUrl, loginUrl: server.loginUrl },
    handlers: {},
    stop: () => server.stop(),
  };
});
