/**
 * Benchmark of the local Lambda endpoint (not a test).
 * Run: npx tsx harness/lambda/bench/invoke.ts [invocations]
 *
 * Prints RequestResponse invoke latency of a no-op function (sequential and 8 in parallel), and
 * the throughput of a minimal writer (one INSERT per envelope message) for 1-message and
 * 50-message envelopes against embedded Postgres. The writer is the bench's own: the endpoint is
 * a stand-in that knows nothing of the chat, so its cost is measured apart from the chat-writer's.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import * as hdr from 'hdr-histogram-js';
import pg from 'pg';
import { quietAwsSdkNodeWarning } from '../../lib/aws-sdk.ts';
import { installSignalHandlers } from '../../lib/cleanup.ts';
import { PostgresService } from '../../stack/postgres/index.ts';
import { LambdaService } from '../index.ts';

const N = Math.min(Number(process.argv[2] ?? 2000), 20_000);
const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

function envelope(room: string, n: number, start: number) {
  return {
    source: 'channel.message',
    appId: 'bench',
    channel: `bench:${room}`,
    site: 'local-1',
    ruleId: 'bench',
    messages: Array.from({ length: n }, (_, i) => ({
      id: `${room}-${start + i}`,
      clientId: 'bench-user',
      connectionId: 'c',
      timestamp: Date.now(),
      name: 'bench.write',
      data: JSON.stringify({ text: `message ${start + i}` }),
      encoding: 'json',
    })),
  };
}

async function timed(label: string, count: number, parallel: number, call: (i: number) => Promise<unknown>): Promise<void> {
  const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < count) {
        const i = next++;
        const s = performance.now();
        await call(i);
        h.recordValue(Math.max(1, Math.round((performance.now() - s) * 1000)));
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  const ms = (p: number) => (h.getValueAtPercentile(p) / 1000).toFixed(2);
  console.log(`${label.padEnd(44)} ${String(count).padStart(6)} calls  ${(count / secs).toFixed(0).padStart(6)}/s  p50 ${ms(50)} ms  p99 ${ms(99)} ms  max ${(h.maxValue / 1000).toFixed(2)} ms`);
}

// Ctrl-C and SIGTERM stop the embedded Postgres and the Lambda endpoint before exiting.
installSignalHandlers();
const pgService = await new PostgresService({ provider: 'embedded' }).start();
try {
  const pool = new pg.Pool({ connectionString: pgService.connectionUri, max: 10 });
  await pool.query('CREATE TABLE bench_writes (id text PRIMARY KEY, channel text NOT NULL, body text NOT NULL)');
  const writer = async (event: unknown) => {
    const { channel, messages } = event as ReturnType<typeof envelope>;
    const values = messages.flatMap((m) => [m.id, channel, m.data]);
    const rows = messages.map((_, i) => `($${i * 3 + 1}, $${i * 3 + 2}, $${i * 3 + 3})`).join(', ');
    const r = await pool.query(`INSERT INTO bench_writes (id, channel, body) VALUES ${rows} ON CONFLICT (id) DO NOTHING`, values);
    return { written: r.rowCount };
  };
  const lambda = await new LambdaService({ functions: { noop: async () => null, writer } }).start();
  quietAwsSdkNodeWarning();
  const client = new LambdaClient({ endpoint: lambda.endpoint, region: lambda.region, credentials: lambda.credentials, maxAttempts: 1 });
  const invoke = async (fn: string, payload: unknown) => {
    const r = await client.send(new InvokeCommand({ FunctionName: fn, Payload: enc(payload) }));
    if (r.FunctionError) throw new Error(`${fn} failed: ${new TextDecoder().decode(r.Payload)}`);
  };
  console.log(`command: npx tsx harness/lambda/bench/invoke.ts ${N}`);
  await timed('warm-up', 200, 4, () => invoke('noop', {}));
  await timed('noop, sequential', N, 1, () => invoke('noop', {}));
  await timed('noop, 8 in parallel', N, 8, () => invoke('noop', {}));
  await timed('writer, 1-message envelope, sequential', N / 2, 1, (i) => invoke('writer', envelope('seq', 1, i)));
  await timed('writer, 1-message envelope, 8 parallel', N / 2, 8, (i) => invoke('writer', envelope('par', 1, i)));
  const batches = Math.max(1, Math.floor(N / 50));
  const t0 = performance.now();
  await timed('writer, 50-message envelope, sequential', batches, 1, (i) => invoke('writer', envelope('b50', 50, i * 50)));
  console.log(`  -> ${((batches * 50) / ((performance.now() - t0) / 1000)).toFixed(0)} messages/s written in 50-message envelopes`);
  client.destroy();
  await lambda.stop();
  await pool.end();
} finally {
  await pgService.stop();
}
