/** A pino logger whose lines a test can read. */
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';

export function capturingLogger(): { logger: Logger; lines: () => Array<Record<string, unknown>> } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  return { logger: pino({ level: 'info' }, sink), lines: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}
