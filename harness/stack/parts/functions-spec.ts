/** The functions part: the HTTP functions server (sign-in, token, history). */
import { z } from 'zod';
import type { PartSpec } from '../part-protocol.ts';
import { HISTORY_DEFECTS } from './history-defective.ts';

export const functionsPartSpec = {
  init: z.strictObject({
    databaseUrl: z.string().min(1),
    ablyKey: z.string().min(1),
    realtimeClientOptions: z.record(z.string(), z.unknown()),
    tokenTtlMs: z.number().int().positive().optional(),
    tokenFullCapability: z.boolean().optional(),
    /** A planted defect of the history endpoint (history-defective.ts); self-check only. */
    historyDefect: z.enum(HISTORY_DEFECTS).optional(),
  }),
  ready: z.strictObject({ url: z.string(), tokenUrl: z.string(), historyUrl: z.string(), loginUrl: z.string() }),
  methods: {},
  events: {},
} satisfies PartSpec;

export type FunctionsPartSpec = typeof functionsPartSpec;
