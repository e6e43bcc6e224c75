/**
 * Where an idle stack's milliseconds go, hop by hop (a benchmark, not a test).
 * Run: npx tsx harness/stack/bench/hops.ts [--posts 300] [--gap-ms 20] [--rules ordered|default]
 *
 * Starts the whole stack (each part its own process, as a scenario does), then posts one chat
 * message at a time from an SDK publisher and waits for its INSERT on an SDK subscriber, so every
 * hop is idle when the message reaches it. Each part's CPU per message (from /proc, whole process
 * trees, the bench's own clients apart) is the figure to compare builds by on a shared machine,
 * where the latencies are noisy. Stages come from four clocks on one machine: the
 * client's (publish, ACK, receipt), the row's `created_at` (Postgres clock_timestamp() at the
 * INSERT, µs) and the connector's `publishedAt` (µs). With STACK_CPU_PROF=DIR the parts write CPU
 * profiles too, which say what each hop spends its time on.
 */
import * as Ably from 'ably';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { MESSAGE_NAMES, incomingChannel, outgoingChannel } from '../../../reference-app/contract/index.ts';
import { installSignalHandlers } from '../../lib/cleanup.ts';
import { procConstants, readAllStats, treeUsage } from '../../lib/proc.ts';
import { epochMsMicros } from '../../lib/timestamp.ts';
import { ORDERED_RULES, startStack } from '../index.ts';

const { values: raw } = parseArgs({ options: { posts: { type: 'string', default: '300' }, 'gap-ms': { type: 'string', default: '20' }, rules: { type: 'string', default: 'ordered' } } });
const parsed = z
  .object({ posts: z.coerce.number().int().min(10).max(100_000), 'gap-ms': z.coerce.number().min(0).max(10_000), rules: z.enum(['ordered', 'default']) })
  .safeParse(raw);
if (!parsed.success) {
  const issue = parsed.error.issues[0]!;
  throw new Error(`--${String(issue.path[0])}: ${issue.message}`);
}
const values = parsed.data;
const posts = values.posts;
const gapMs = values['gap-ms'];

/** Epoch milliseconds with a µs fraction, on the clock the connector stamps publishedAt with. */
const now = () => performance.timeOrigin + performance.now();

installSignalHandlers();
const stack = await startStack({ ...(values.rules === 'ordered' ? { rulesFile: ORDERED_RULES } : {}), onProgress: (m) => process.stderr.write(`[stack] ${m}\n`) });
const clients: Ably.Realtime[] = [];
try {
  const opts = { ...stack.realtimeClientOptions, key: stack.endpoints.realtime.apiKey };
  const pub = new Ably.Realtime({ ...opts, clientId: 'hops-writer' });
  const sub = new Ably.Realtime({ ...opts, clientId: 'hops-reader' });
  clients.push(pub, sub);
  const room = 'hops';
  const out = pub.channels.get(outgoingChannel(room));
  const inc = sub.channels.get(incomingChannel(room));
  const waiting = new Map<string, (m: Ably.InboundMessage) => void>();
  await inc.subscribe('INSERT', (m) => {
    const id = (m.data as { row?: { id?: string } }).row?.id;
    if (id) waiting.get(id)?.(m);
  });
  await out.attach();
  /** CPU ms of each part's process tree so far (Postgres with its backends). */
  const cpu = (): Map<string, number> => {
    const stats = readAllStats();
    const parts = stack.processes();
    const others = new Set(parts.map((p) => p.pid));
    const out = new Map<string, number>();
    for (const p of parts) {
      const u = treeUsage(stats, p.pid, new Set([...others].filter((o) => o !== p.pid)), false);
      if (u) out.set(p.part, (out.get(p.part) ?? 0) + (u.ticks * 1000) / procConstants().ticksPerSecond);
    }
    out.set('bench (clients)', (process.cpuUsage().user + process.cpuUsage().system) / 1000);
    return out;
  };
  let cpuBefore = new Map<string, number>();
  const stages: Record<string, number[]> = { 'publish->ack': [], 'publish->insert': [], 'insert->connector publish': [], 'connector publish->receipt': [], e2e: [] };
  for (let i = -20; i < posts; i++) {
    const id = `hops-${i}-${Date.now()}`;
    const received = new Promise<Ably.InboundMessage>((resolve) => waiting.set(id, resolve));
    const t0 = now();
    await out.publish({ id, name: MESSAGE_NAMES.post, data: { text: `hop ${i}` } });
    const tAck = now();
    const m = await received;
    const tRecv = now();
    waiting.delete(id);
    if (i < 0) {
      if (i === -1) cpuBefore = cpu();
      continue; // warm-up: connections, JIT, pools
    }
    const data = m.data as { row: { created_at: string }; publishedAt: number };
    const insert = epochMsMicros(data.row.created_at);
    stages['publish->ack']!.push(tAck - t0);
    stages['publish->insert']!.push(insert - t0);
    stages['insert->connector publish']!.push(data.publishedAt - insert);
    stages['connector publish->receipt']!.push(tRecv - data.publishedAt);
    stages.e2e!.push(tRecv - t0);
    if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
  }
  const cpuAfter = cpu();
  const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
  console.log(`hops: ${posts} posts one at a time, ${gapMs} ms apart, ${values.rules} rules, ${new Date().toISOString()}`);
  for (const [name, xs] of Object.entries(stages)) console.log(`  ${name.padEnd(28)} p50 ${pct(xs, 50).toFixed(3)} ms  p90 ${pct(xs, 90).toFixed(3)} ms  p99 ${pct(xs, 99).toFixed(3)} ms`);
  const perMessage = [...cpuAfter].map(([part, ms]) => `${part} ${Math.round(((ms - (cpuBefore.get(part) ?? 0)) * 1000) / posts)}`);
  console.log(`  CPU µs per message (the ${gapMs} ms gaps' idle work included): ${perMessage.join(', ')}`);
} finally {
  for (const c of clients) c.close();
  await stack.stop();
}
