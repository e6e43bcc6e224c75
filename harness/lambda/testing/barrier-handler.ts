/** A handler module for the runtime's tests: reports its thread and, when asked, waits at an HTTP barrier held by the test. */
import { threadId } from 'node:worker_threads';

export async function handler(event: { barrierUrl?: string }): Promise<{ threadId: number; greeting: string | undefined }> {
  if (event.barrierUrl) await (await fetch(event.barrierUrl)).text();
  return { threadId, greeting: process.env.GREETING };
}

export const notAFunction = 42;
