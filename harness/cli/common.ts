/** Shared CLI plumbing: one-line errors and exit codes that CI can rely on. */
import { z } from 'zod';
import { installSignalHandlers } from '../lib/cleanup.ts';

export const EXIT_USAGE = 2;

export class UsageError extends Error {}

/** Runs main; a UsageError exits 2, anything else 1, each with a one-line reason. */
export function runMain(main: () => Promise<number | void>): void {
  installSignalHandlers();
  main().then(
    (code) => {
      if (typeof code === 'number') process.exitCode = code;
    },
    (err: unknown) => {
      const msg = err instanceof Error ? err.message : String(err);
      process.stderr.write(`error: ${msg.split('\n')[0]}\n`);
      process.exitCode = err instanceof UsageError ? EXIT_USAGE : 1;
      // Cleanups registered by started services run from the exit handler.
      setImmediate(() => process.exit());
    },
  );
}

/** Resolves when the process is asked to stop; the cleanup module performs the teardown. */
export function untilInterrupted(): Promise<never> {
  return new Promise(() => {
    setInterval(() => {}, 1 << 30);
  });
}

/** A numeric flag given as text; the error names the flag and `schema.description` (what was expected). */
export const numberFlag = (flag: string, schema: z.ZodNumber) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined) return undefined;
      const parsed = schema.safeParse(Number(v));
      if (v.trim() === '' || !parsed.success) {
        ctx.addIssue({ code: 'custom', message: `${flag} '${v}' is not ${schema.description}` });
        return z.NEVER;
      }
      return parsed.data;
    });
