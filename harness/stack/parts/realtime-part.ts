/** Process entry of the realtime part (see realtime-spec.ts); started by the stack with `node --import tsx`. */
import pino from 'pino';
import { RealtimeService } from '../../realtime/index.ts';
import { attachRules, emptyCounters, parseRules, type AttachedRules, type RuleInvocationRecord } from '../../realtime/rules/index.ts';
import { batcher, runPart } from '../part-child.ts';
import { within } from './deadline.ts';
import { realtimePartSpec } from './realtime-spec.ts';

runPart('realtime', realtimePartSpec, async (config, emit) => {
  const logger = pino({ level: config.logLevel }, pino.destination(2));
  const realtime = await new RealtimeService({ keys: config.keys, logger, limits: config.limits, ...(config.plantedDefect ? { plantedDefect: config.plantedDefect } : {}) }).start();
  let attached: AttachedRules | undefined;
  const admin = realtime.admin;
  return {
    info: { host: realtime.host, port: realtime.port, apiKey: realtime.apiKey, clientOptions: realtime.clientOptions() },
    handlers: {
      attachRules: async ({ rules, lambda }) => {
        if (attached) throw new Error('the integration rules are already attached');
        attached = attachRules(realtime, parseRules(rules), lambda, { logger });
        attached.onInvocation(batcher<RuleInvocationRecord>((items) => emit('ruleInvocations', items)));
        return null;
      },
      dropConnections: async ({ fraction, seed, tokenOnly }) => admin.dropConnections(fraction, seed, tokenOnly),
      pauseDelivery: async () => (admin.pauseDelivery(), null),
      resumeDelivery: async () => (admin.resumeDelivery(), null),
      setDelay: async ({ ms }) => (admin.setDelay(ms), null),
      restart: async ({ downMs }) => admin.restart(downMs),
      goDown: async () => admin.goDown(),
      comeUp: async () => (await admin.comeUp(), null),
      liveConnections: async () => admin.liveConnections(),
      metricsText: async () => realtime.metricsText(),
      rulesStats: async () => attached?.stats() ?? { rules: {}, total: emptyCounters() },
      rulesSetRedelivery: async ({ redelivery }) => {
        if (!attached) throw new Error('no integration rules are attached');
        return attached.setRedelivery(redelivery);
      },
      rulesDrain: async ({ timeoutMs }) =>
        attached ? { settled: await within(attached.drain(), timeoutMs), total: attached.stats().total } : { settled: true, total: emptyCounters() },
    },
    stop: async () => {
      await attached?.stop();
      await realtime.stop();
    },
  };
});
