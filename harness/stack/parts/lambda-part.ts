/** Process entry of the Lambda runtime part (see lambda-spec.ts); started by the stack with `node --import tsx`. */
import pino from 'pino';
import { LambdaService, type InvocationRecord } from '../../lambda/index.ts';
import { batcher, runPart } from '../part-child.ts';
import { within } from './deadline.ts';
import { lambdaPartSpec } from './lambda-spec.ts';

runPart('lambda', lambdaPartSpec, async (config, emit) => {
  const logger = pino({ level: config.logLevel }, pino.destination(2));
  const lambda = await new LambdaService({
    functions: config.functions,
    logger,
    ...(config.async ? { async: config.async } : {}),
    ...(config.region ? { region: config.region } : {}),
    ...(config.credentials ? { credentials: config.credentials } : {}),
  }).start();
  lambda.onInvocation(batcher<InvocationRecord>((items) => emit('invocations', items)));
  const names = Object.keys(config.functions);
  return {
    info: { endpoint: lambda.endpoint, region: lambda.region, credentials: lambda.credentials },
    handlers: {
      setFault: async ({ fn, fault }) => (lambda.setFault(fn, fault), null),
      stats: async ({ fn }) => lambda.stats(fn),
      drain: async ({ timeoutMs }) => ({
        settled: await within(lambda.drain(), timeoutMs),
        asyncQueued: names.reduce((n, fn) => n + lambda.stats(fn).asyncQueued, 0),
      }),
    },
    stop: () => lambda.stop(),
  };
});
