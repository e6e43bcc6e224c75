/** The Lambda runtime part: the Invoke API endpoint and the functions it runs, each a handler module on worker threads. */
import { z } from 'zod';
import type { PartSpec } from '../part-protocol.ts';
import { credentialsSchema, drainParams, functionStatsSchema, lambdaFaultSchema, lambdaRecordSchema } from './schemas.ts';

export const lambdaPartSpec = {
  init: z.strictObject({
    functions: z.record(
      z.string(),
      z.strictObject({
        module: z.string().min(1),
        exportName: z.string().min(1),
        environment: z.record(z.string(), z.string()).optional(),
        workers: z.number().int().min(1).max(64).optional(),
      }),
    ),
    /** Asynchronous invocations: retries, maximum event age and on-failure destination (see harness/lambda/types.ts). */
    async: z
      .strictObject({
        maxRetries: z.number().int().min(0).max(2).optional(),
        retryDelaysMs: z.array(z.number().min(0)).min(1).optional(),
        timeScale: z.number().positive().optional(),
        maxEventAgeMs: z.number().optional(),
        onFailure: z.strictObject({ destination: z.string().min(1) }).optional(),
      })
      .optional(),
    region: z.string().min(1).optional(),
    credentials: credentialsSchema.optional(),
    logLevel: z.string().default('error'),
  }),
  ready: z.strictObject({ endpoint: z.string(), region: z.string(), credentials: credentialsSchema }),
  methods: {
    setFault: { params: z.strictObject({ fn: z.string(), fault: lambdaFaultSchema }), result: z.null() },
    stats: { params: z.strictObject({ fn: z.string() }), result: functionStatsSchema },
    drain: { params: drainParams, result: z.strictObject({ settled: z.boolean(), asyncQueued: z.number() }) },
  },
  events: { invocations: z.array(lambdaRecordSchema) },
} satisfies PartSpec;

export type LambdaPartSpec = typeof lambdaPartSpec;
