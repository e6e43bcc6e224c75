/** A minimal part for the launcher's tests: echoes, fails on request, streams ticks, can refuse to start. */
import { z } from 'zod';
import { batcher, runPart } from '../part-child.ts';
import type { PartSpec } from '../part-protocol.ts';

export const echoSpec = {
  init: z.strictObject({ greeting: z.string(), failStart: z.boolean().optional() }),
  ready: z.strictObject({ greeting: z.string(), pid: z.number().int() }),
  methods: {
    echo: { params: z.strictObject({ text: z.string() }), result: z.strictObject({ text: z.string() }) },
    boom: { params: z.strictObject({}), result: z.null() },
    tick: { params: z.strictObject({ n: z.number().int().min(1) }), result: z.null() },
  },
  events: { ticks: z.array(z.number().int()) },
} satisfies PartSpec;

if (process.argv[1] === new URL(import.meta.url).pathname) {
  runPart('echo part', echoSpec, async (config, emit) => {
    if (config.failStart) throw new Error('refusing to start, as asked');
    const tick = batcher<number>((items) => emit('ticks', items));
    return {
      info: { greeting: config.greeting, pid: process.pid },
      handlers: {
        echo: async ({ text }) => ({ text: `${config.greeting} ${text}` }),
        boom: async () => {
          throw new Error('boom, as asked');
        },
        tick: async ({ n }) => {
          for (let i = 0; i < n; i++) tick(i);
          return null;
        },
      },
      stop: async () => {},
    };
  });
}
