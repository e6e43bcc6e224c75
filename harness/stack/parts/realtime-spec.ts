/**
 * The realtime part: the realtime service and its integration rules in one process, as Ably
 * runs its integration rules inside Ably. Keys, rules and the Lambda target come in as config.
 */
import { z } from 'zod';
import { realtimeKeySchema } from '../../realtime/auth/keys.ts';
import { REALTIME_PLANTED_DEFECTS } from '../../realtime/planted-defects.ts';
import { limitsSchema } from '../../realtime/limits.ts';
import { redeliverySchema } from '../../realtime/rules/schema.ts';
import type { PartSpec } from '../part-protocol.ts';
import { credentialsSchema, drainParams, ruleCountersSchema, ruleRecordSchema, ruleStatsSchema } from './schemas.ts';

const none = z.strictObject({});

export const realtimePartSpec = {
  init: z.strictObject({
    keys: z.array(realtimeKeySchema).min(1),
    logLevel: z.string().default('error'),
    limits: limitsSchema.prefault({}),
    /** For the self-check only (harness/stack/defects.ts). */
    plantedDefect: z.enum(REALTIME_PLANTED_DEFECTS).optional(),
  }),
  ready: z.strictObject({
    host: z.string(),
    port: z.number().int(),
    apiKey: z.string(),
    clientOptions: z.object({ endpoint: z.string(), port: z.number().int(), tls: z.literal(false), connectivityCheckUrl: z.string(), wsConnectivityCheckUrl: z.string() }),
  }),
  methods: {
    /** The integration rules and their Lambda target; given once, after start, so the service and the Lambda runtime can start side by side. */
    attachRules: {
      params: z.strictObject({
        /** As a rules file holds them (validated again by the rules engine). */
        rules: z.array(z.unknown()),
        lambda: z.strictObject({ endpoint: z.string().min(1).optional(), region: z.string().min(1), credentials: credentialsSchema.optional() }),
      }),
      result: z.null(),
    },
    dropConnections: { params: z.strictObject({ fraction: z.number().min(0).max(1).optional(), seed: z.number().int().optional(), tokenOnly: z.boolean().optional() }), result: z.number().int() },
    pauseDelivery: { params: none, result: z.null() },
    resumeDelivery: { params: none, result: z.null() },
    setDelay: { params: z.strictObject({ ms: z.number().int().min(0) }), result: z.null() },
    restart: { params: z.strictObject({ downMs: z.number().int().min(0).optional() }), result: z.strictObject({ connectionsLost: z.number().int() }) },
    goDown: { params: none, result: z.strictObject({ connectionsLost: z.number().int() }) },
    comeUp: { params: none, result: z.null() },
    liveConnections: { params: none, result: z.number().int() },
    metricsText: { params: none, result: z.string() },
    rulesStats: { params: none, result: ruleStatsSchema },
    /** Late redelivery on the ably-lambda rules, or none again; answers the ids of the rules that took it. */
    rulesSetRedelivery: { params: z.strictObject({ redelivery: redeliverySchema.optional() }), result: z.array(z.string()) },
    rulesDrain: { params: drainParams, result: z.strictObject({ settled: z.boolean(), total: ruleCountersSchema }) },
  },
  events: { ruleInvocations: z.array(ruleRecordSchema) },
} satisfies PartSpec;

export type RealtimePartSpec = typeof realtimePartSpec;
