/** Process entry of the functions part (see functions-spec.ts); started by the stack with `node --import tsx`. */
import { startFunctionsServer } from '../../../reference-app/functions/server.ts';
import { runPart } from '../part-child.ts';
import { startDefectiveHistory } from './history-defective.ts';
import { functionsPartSpec } from './functions-spec.ts';

runPart('functions', functionsPartSpec, async (config) => {
  const server = await startFunctionsServer({
    databaseUrl: config.databaseUrl,
    ablyKey: config.ablyKey,
    realtimeClientOptions: config.realtimeClientOptions,
    ...(config.tokenTtlMs ? { tokenTtlMs: config.tokenTtlMs } : {}),
    ...(config.tokenFullCapability ? { tokenFullCapability: true } : {}),
  });
  // With a planted history defect every client request goes through the spoiling front instead.
  const front = config.historyDefect ? await startDefectiveHistory(new URL(server.url), config.historyDefect) : undefined;
  const at = (u: string) => (front ? front.url + u.slice(server.url.length) : u);
  return {
    info: { url: at(server.url), tokenUrl: at(server.tokenUrl), historyUrl: at(server.historyUrl), loginUrl: at(server.loginUrl) },
    handlers: {},
    stop: async () => {
      await front?.stop();
      await server.stop();
    },
  };
});
