/**
 * Fan-out benchmark (not a test): 1 publisher, N subscribers (real ably SDK clients, default
 * MessagePack), through the realtime service running in its own process (so it has a core to
 * itself). Phase 1 publishes as fast as acknowledgements allow (a window of in-flight publishes);
 * phase 2 publishes open-loop at half the phase-1 rate, with latency measured from each
 * message's scheduled send time so a stalled publisher cannot hide latency.
 *
 *   npx tsx harness/realtime/bench/fanout.ts [--subscribers 50] [--seconds 5] [--window 32] [--json-protocol]
 *     [--in-process | --port P --key appId.keyId:secret (a service already running on 127.0.0.1)]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as Ably from 'ably';
import { Command } from 'commander';
import * as hdr from 'hdr-histogram-js';
import { z } from 'zod';
import { RealtimeService, type StartedRealtime } from '../index.ts';

const program = new Command('npx tsx harness/realtime/bench/fanout.ts')
  .description('Fan-out throughput and publish-to-receive latency of the local realtime service')
  .option('--subscribers <n>', 'subscribing clients', '50')
  .option('--seconds <s>', 'duration of each phase', '5')
  .option('--window <n>', 'in-flight publishes in the max-rate phase', '32')
  .option('--json-protocol', 'use JSON instead of MessagePack on every client')
  .option('--in-process', 'run the service in this process instead of a child process')
  .option('--port <port>', 'use a service already listening on 127.0.0.1:PORT (needs --key)')
  .option('--key <key>', 'API key for --port')
  .exitOverride((e) => process.exit(e.exitCode === 0 ? 0 : 2));
program.parse();
const raw = program.opts<{ subscribers: string; seconds: string; window: string; jsonProtocol?: boolean; inProcess?: boolean; port?: string; key?: string }>();
if (raw.port !== undefined && (!raw.key || !/^\d+$/.test(raw.port))) {
  process.stderr.write('error: --port needs a number and --key\n');
  process.exit(2);
}
const parsed = z
  .object({ subscribers: z.coerce.number().int().min(1).max(500), seconds: z.coerce.number().min(1).max(120), window: z.coerce.number().int().min(1).max(1000) })
  .safeParse(raw);
if (!parsed.success) {
  process.stderr.write(`error: invalid --${String(parsed.error.issues[0]?.path[0])}: ${parsed.error.issues[0]?.message}\n`);
  process.exit(2);
}
const { subscribers: N, seconds, window } = parsed.data;
const useBinaryProtocol = !raw.jsonProtocol;

/** Wall-clock milliseconds with sub-millisecond resolution, comparable across clients in this process. */
const now = () => performance.timeOrigin + performance.now();

interface Target {
  options: { endpoint: string; port: number; tls: false; key: string };
  /** CPU seconds used by the service process so far (undefined in process). */
  cpu: () => number | undefined;
  stop: () => Promise<void>;
}

/** user+system CPU seconds of a process, from /proc (Linux). */
function procCpuSeconds(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

async function startTarget(): Promise<Target> {
  if (raw.port !== undefined) return { options: { endpoint: '127.0.0.1', port: Number(raw.port), tls: false, key: raw.key! }, cpu: () => undefined, stop: async () => {} };
  if (raw.inProcess) {
    const svc: StartedRealtime = await new RealtimeService().start();
    return { options: { ...svc.clientOptions(), key: svc.apiKey }, cpu: () => undefined, stop: svc.stop };
  }
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '../../cli/realtime.ts'), '--json', '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d;
      if (buf.includes('\n')) resolve(buf.split('\n')[0]!);
    });
    child.once('exit', (code) => reject(new Error(`realtime service exited with ${code}`)));
  });
  const ep = JSON.parse(line) as { host: string; port: number; apiKey: string };
  return {
    options: { endpoint: ep.host, port: ep.port, tls: false, key: ep.apiKey },
    cpu: () => procCpuSeconds(child.pid!),
    stop: async () => {
      child.kill('SIGTERM');
      if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
    },
  };
}

interface PhaseResult {
  name: string;
  published: number;
  deliveries: number;
  seconds: number;
  publishRate: number;
  deliveryRate: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** CPU share (1.0 = one core) of the service and of this process (all clients) during the phase. */
  serviceCpu?: number;
  clientsCpu: number;
}

async function main(): Promise<void> {
  // Other work on the machine skews latency: the load average is printed with the results.
  const loadBefore = loadavg();
  const target = await startTarget();
  const clients: Ably.Realtime[] = [];
  try {
    const mk = () => {
      const c = new Ably.Realtime({ ...target.options, useBinaryProtocol, logLevel: 0 });
      clients.push(c);
      return c;
    };
    const channelName = 'bench:fanout';
    let phase: { hist: hdr.Histogram; deliveries: number; expected: number; done?: () => void } | undefined;
    const subs = Array.from({ length: N }, mk);
    await Promise.all(
      subs.map(async (c) => {
        await c.connection.whenState('connected');
        await c.channels.get(channelName).subscribe((m) => {
          const p = phase;
          if (!p) return;
          const sentAt = (m.data as { t: number }).t;
          p.hist.recordValue(Math.max(1, Math.round((now() - sentAt) * 1000)));
          if (++p.deliveries === p.expected) p.done?.();
        });
      }),
    );
    const pub = mk();
    await pub.connection.whenState('connected');
    const ch = pub.channels.get(channelName);
    const payload = 'x'.repeat(100);

    const run = async (name: string, publishLoop: (stopAt: number, send: (t: number) => Promise<unknown>) => Promise<number>): Promise<PhaseResult> => {
      const hist = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
      const p: NonNullable<typeof phase> = { hist, deliveries: 0, expected: Number.POSITIVE_INFINITY };
      phase = p;
      const t0 = now();
      const cpu0 = { svc: target.cpu(), me: process.cpuUsage() };
      const published = await publishLoop(t0 + seconds * 1000, (t) => ch.publish('b', { t, payload }));
      p.expected = published * N;
      if (p.deliveries < p.expected) {
        await Promise.race([new Promise<void>((r) => (p.done = r)), new Promise((r) => setTimeout(r, 10_000))]);
      }
      const elapsed = (now() - t0) / 1000;
      phase = undefined;
      const me = process.cpuUsage(cpu0.me);
      const svcCpu = target.cpu();
      const ms = (v: number) => v / 1000;
      return {
        name,
        published,
        deliveries: p.deliveries,
        seconds: elapsed,
        publishRate: published / elapsed,
        deliveryRate: p.deliveries / elapsed,
        p50: ms(hist.getValueAtPercentile(50)),
        p90: ms(hist.getValueAtPercentile(90)),
        p99: ms(hist.getValueAtPercentile(99)),
        max: ms(hist.maxValue),
        ...(svcCpu !== undefined && cpu0.svc !== undefined ? { serviceCpu: (svcCpu - cpu0.svc) / elapsed } : {}),
        clientsCpu: (me.user + me.system) / 1e6 / elapsed,
      };
    };

    // Warm-up so connection setup and JIT do not count.
    await Promise.all(Array.from({ length: 50 }, () => ch.publish('warm', { t: now(), payload })));
    await new Promise((r) => setTimeout(r, 300));

    const max = await run('max rate', async (stopAt, send) => {
      let n = 0;
      const inFlight = new Set<Promise<unknown>>();
      while (now() < stopAt) {
        const p = send(now()).finally(() => inFlight.delete(p));
        inFlight.add(p);
        n++;
        if (inFlight.size >= window) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
      return n;
    });
    const rate = max.publishRate / 2;
    const half = await run(`half rate (${rate.toFixed(0)} msg/s)`, async (stopAt, send) => {
      const interval = 1000 / rate;
      const start = now();
      const pending: Promise<unknown>[] = [];
      for (let i = 0; ; i++) {
        const due = start + i * interval;
        if (due >= stopAt) break;
        const wait = due - now();
        if (wait > 1) await new Promise((r) => setTimeout(r, wait));
        // Latency counts from the scheduled time: a late send is the system's delay, not the benchmark's.
        pending.push(send(due));
      }
      await Promise.all(pending);
      return pending.length;
    });

    const rows = [max, half];
    const f = (v: number, d = 0) => v.toFixed(d);
    process.stdout.write(`\ncommand: npx tsx harness/realtime/bench/fanout.ts ${process.argv.slice(2).join(' ')}`.trimEnd() + '\n');
    process.stdout.write(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}; service ${raw.port ? `at port ${raw.port}` : raw.inProcess ? 'in process' : 'in a child process'}; ${N} subscribers + 1 publisher, ${useBinaryProtocol ? 'msgpack' : 'json'}, ${seconds}s per phase; load average before: ${loadBefore.map((l) => l.toFixed(2)).join(' ')}\n\n`);
    process.stdout.write('phase                     published  deliveries  deliveries/s  p50 ms  p90 ms  p99 ms  max ms  cpu service/clients\n');
    for (const r of rows) {
      const cpu = `${r.serviceCpu === undefined ? '-' : f(r.serviceCpu, 2)} / ${f(r.clientsCpu, 2)}`;
      process.stdout.write(`${r.name.padEnd(25)} ${f(r.published).padStart(9)}  ${f(r.deliveries).padStart(10)}  ${f(r.deliveryRate).padStart(12)}  ${f(r.p50, 2).padStart(6)}  ${f(r.p90, 2).padStart(6)}  ${f(r.p99, 2).padStart(6)}  ${f(r.max, 1).padStart(6)}  ${cpu}\n`);
    }
    const lost = rows.filter((r) => r.deliveries !== r.published * N);
    if (lost.length) process.stdout.write(`\nWARNING: missing deliveries in ${lost.map((r) => r.name).join(', ')}\n`);
  } finally {
    for (const c of clients) c.close();
    await target.stop();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`error: ${(e as Error).message}\n`);
    process.exit(1);
  },
);
