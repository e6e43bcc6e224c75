/**
 * History memory benchmark (not a test): one key connection floods one channel with large
 * messages, as the hostile user did on a typing channel, against a service with the
 * default per-channel byte budget and against one whose budget is out of reach (count and age
 * bounds only, as before). Prints, for each, the history the service holds (its
 * `realtime_history_bytes` gauge) and the growth of the heap and buffers after a full GC.
 *
 *   node --expose-gc --import tsx harness/realtime/bench/history-memory.ts [--messages 2000] [--size 60000]
 */
import { loadavg } from 'node:os';
import * as Ably from 'ably';
import { Command } from 'commander';
import { z } from 'zod';
import { RealtimeService } from '../index.ts';

const opts = z
  .object({ messages: z.coerce.number().int().min(1).max(100_000), size: z.coerce.number().int().min(1).max(60_000) })
  .parse(new Command().option('--messages <n>', 'messages to publish', '2000').option('--size <bytes>', 'bytes of each message', '60000').parse().opts());

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc (see the header)');

function held(): number {
  gc!();
  const m = process.memoryUsage();
  return m.heapUsed + m.external + m.arrayBuffers;
}

async function run(label: string, historyMaxBytes?: number): Promise<void> {
  const svc = await new RealtimeService({ ...(historyMaxBytes ? { historyMaxBytes } : {}), maxMessageSize: 65536 }).start();
  const client = new Ably.Realtime({ ...svc.clientOptions(), key: svc.apiKey, logLevel: 0 });
  try {
    await client.connection.whenState('connected');
    const ch = client.channels.get('typing-flood');
    const before = held();
    const data = 'x'.repeat(opts.size);
    const window = 64;
    for (let i = 0; i < opts.messages; i += window) {
      await Promise.all(Array.from({ length: Math.min(window, opts.messages - i) }, () => ch.publish('t', data)));
    }
    const gauge = /^realtime_history_bytes (\d+)/m.exec(await svc.metricsText())?.[1] ?? '?';
    const grown = held() - before;
    process.stdout.write(`${label.padEnd(34)} history ${(Number(gauge) / 2 ** 20).toFixed(1).padStart(7)} MB   heap+buffers grew ${(grown / 2 ** 20).toFixed(1).padStart(7)} MB\n`);
  } finally {
    client.close();
    await svc.stop();
  }
}

process.stdout.write(`${opts.messages} messages of ${opts.size} bytes on one channel, ${new Date().toISOString()}, load average ${loadavg()[0]!.toFixed(1)}\n`);
await run('historyMaxBytes 8 MB (default)');
await run('historyMaxBytes 2 GB (no byte bound)', 2 ** 31);
process.exit(0);
