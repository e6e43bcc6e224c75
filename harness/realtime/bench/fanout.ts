/**
 * Fan-out benchmark (not a test): 1 publisher, N subscribers (real ably SDK clients, default
 * MessagePack), through the realtime service running in its own process. The subscribers are
 * spread over worker threads so that the SDK's own decoding does not queue up in one thread and
 * pass for the service's latency; the main thread only publishes. Phase 1 publishes as fast as
 * the slowest subscriber keeps up (a window of messages in flight); phase 2 publishes open-loop
 * at half the phase-1 rate; `--rate R` adds an open-loop phase at R messages/s (after an
 * unrecorded settle phase at the same rate). Open-loop latency counts from each message's
 * scheduled time (or its send, if the timer fired early), so a stalled publisher cannot hide
 * latency. Exits 1 if any delivery is missing, 2 on a bad option.
 *
 *   npx tsx harness/realtime/bench/fanout.ts [--subscribers 50] [--workers 2] [--seconds 5] [--window 64]
 *     [--rate R [--rate-only]] [--json-protocol] [--raw]
 *     [--in-process | --port P --key appId.keyId:secret (a service already running on 127.0.0.1)]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import v8 from 'node:v8';
import { Worker } from 'node:worker_threads';
import * as Ably from 'ably';
import { Command } from 'commander';
import * as hdr from 'hdr-histogram-js';
import { z } from 'zod';
import { processCpuMs } from '../../lib/proc.ts';
import { installSignalHandlers, killSync, registerCleanup, stopChild } from '../../lib/cleanup.ts';
import { RealtimeService, type StartedRealtime } from '../index.ts';
import { newHistogram, nowUs, type FromWorker, type ToWorker, type WorkerInput } from './subscribers.ts';

const program = new Command('npx tsx harness/realtime/bench/fanout.ts')
  .description('Fan-out throughput and publish-to-receive latency of the local realtime service')
  .option('--subscribers <n>', 'subscribing clients', '50')
  .option('--seconds <s>', 'duration of each phase', '5')
  .option('--window <n>', 'messages in flight (published, not yet delivered) in the max-rate phase', '64')
  .option('--workers <n>', 'worker threads sharing the subscribers', '2')
  .option('--rate <msgs>', 'also run an open-loop phase at this many publishes per second')
  .option('--rate-only', 'with --rate: run only that phase (after a short warm-up), not the max-rate and half-rate phases')
  .option('--raw', 'diagnostic: worker subscribers are minimal protocol clients, not the SDK (isolates the service)')
  .option('--json-protocol', 'use JSON instead of MessagePack on every client')
  .option('--in-process', 'run the service in this process instead of a child process')
  .option('--port <port>', 'use a service already listening on 127.0.0.1:PORT (needs --key)')
  .option('--key <key>', 'API key for --port')
  .exitOverride((e) => process.exit(e.exitCode === 0 ? 0 : 2));
program.parse();
const raw = program.opts<{ subscribers: string; seconds: string; window: string; workers: string; rate?: string; rateOnly?: boolean; raw?: boolean; jsonProtocol?: boolean; inProcess?: boolean; port?: string; key?: string }>();
if (raw.port !== undefined && (!raw.key || !/^\d+$/.test(raw.port))) {
  process.stderr.write('error: --port needs a number and --key\n');
  process.exit(2);
}
const parsed = z
  .object({
    subscribers: z.coerce.number().int().min(1).max(500),
    seconds: z.coerce.number().min(1).max(120),
    window: z.coerce.number().int().min(1).max(1000),
    workers: z.coerce.number().int().min(1).max(16),
    rate: z.coerce.number().min(1).max(100_000).optional(),
  })
  .safeParse(raw);
if (!parsed.success) {
  process.stderr.write(`error: invalid --${String(parsed.error.issues[0]?.path[0])}: ${parsed.error.issues[0]?.message}\n`);
  process.exit(2);
}
const { subscribers: N, seconds, window, workers: W, rate: fixedRate } = parsed.data;
if (raw.rateOnly && fixedRate === undefined) {
  process.stderr.write('error: --rate-only needs --rate\n');
  process.exit(2);
}
const useBinaryProtocol = !raw.jsonProtocol;


/** Workers do not inherit tsx's loader hooks, so each one registers tsx before importing the TypeScript worker. */
const WORKER_BOOTSTRAP = `import(${JSON.stringify(pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api')).href.replace(/index\.cjs$/, 'index.mjs'))})
  .then((tsx) => { tsx.register(); return import(${JSON.stringify(new URL('./subscribers.ts', import.meta.url).href)}); })`;

/** The service's young generation (`npm run realtime` sets the same), and the client threads'. */
const SEMI_SPACE_MB = 64;
// A young generation that starts small grows only slowly: the client threads would scavenge 5
// times a second for the whole run. Worker isolates take this process's V8 flags.
v8.setFlagsFromString(`--min-semi-space-size=${SEMI_SPACE_MB}`);

interface Target {
  options: { endpoint: string; port: number; tls: false; key: string };
  /** CPU seconds used by the service process so far (undefined in process). */
  cpu: () => number | undefined;
  stop: () => Promise<void>;
}

async function startTarget(): Promise<Target> {
  if (raw.port !== undefined) return { options: { endpoint: '127.0.0.1', port: Number(raw.port), tls: false, key: raw.key! }, cpu: () => undefined, stop: async () => {} };
  if (raw.inProcess) {
    const svc: StartedRealtime = await new RealtimeService().start();
    return { options: { ...svc.clientOptions(), key: svc.apiKey }, cpu: () => undefined, stop: svc.stop };
  }
  const child: ChildProcess = spawn(process.execPath, [`--max-semi-space-size=${SEMI_SPACE_MB}`, '--import', 'tsx', join(import.meta.dirname, '../../cli/realtime.ts'), '--json', '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'inherit'] });
  // However this process ends (Ctrl-C, SIGTERM, an error), the service does not outlive it.
  const unregister = registerCleanup({ name: 'realtime service', stop: () => stopChild(child), stopSync: () => killSync(child.pid, 'SIGTERM') });
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
    cpu: () => {
      const ms = processCpuMs(child.pid);
      return Number.isNaN(ms) ? undefined : ms / 1000;
    },
    stop: async () => {
      await stopChild(child);
      unregister();
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
  /** Open loop: how late the publisher's timer sent messages (ms, p99), already part of the latency. */
  lateP99?: number;
}

/**
 * How late this machine wakes a sleeping thread while nothing else runs (µs percentiles of 400
 * sleeps of 5 ms). Every delivery waits on at least three such wake-ups (publisher, service,
 * subscriber thread), so this bounds the tail from below; on the development VM its p99 moved
 * between 0.15 and 4.1 ms from one minute to the next.
 */
function idleWakeLateness(): { p50: number; p99: number; max: number } {
  const cell = new Int32Array(new SharedArrayBuffer(4));
  const h = newHistogram();
  const start = nowUs();
  for (let i = 1; i <= 400; i++) {
    const due = start + i * 5000;
    const waitMs = (due - nowUs()) / 1000;
    if (waitMs > 0) Atomics.wait(cell, 0, 0, waitMs);
    h.recordValue(Math.max(1, nowUs() - due));
  }
  return { p50: h.getValueAtPercentile(50), p99: h.getValueAtPercentile(99), max: h.maxValue };
}

/** A line on stderr as each step starts: a full run takes over a minute; the results go to stdout. */
const progress = (line: string): void => void process.stderr.write(`fanout: ${line}\n`);

/** False when a phase lost deliveries: the run then exits 1, as a failed check would. */
let complete = true;

async function main(): Promise<void> {
  // Ctrl-C and SIGTERM stop the service child (registered below) and exit 130 / 143.
  installSignalHandlers();
  // Other work on the machine skews latency: the load average and the idle machine's wake-up
  // lateness are printed with the results.
  const loadBefore = loadavg();
  const wake = idleWakeLateness();
  const target = await startTarget();
  progress(`service ready at ${target.options.endpoint}:${target.options.port}`);
  const channel = 'bench:fanout';
  const workers: Worker[] = [];
  let pub: Ably.Realtime | undefined;
  try {
    const options = { ...target.options, useBinaryProtocol };
    // Every subscriber lives in a worker: this thread only publishes, so its timer is not held up
    // by a subscriber's decoding (that lateness would count in every latency of the message).
    const shares = Array.from({ length: W }, (_, i) => Math.floor(N / W) + (i < N % W ? 1 : 0)).filter((n) => n > 0);
    const inbox = shares.map(() => [] as FromWorker[]);
    /** Per worker: messages received this phase by its slowest client. */
    const slowest = shares.map(() => 0);
    let released: (() => void) | undefined;
    const waiters: Array<() => void> = [];
    let failure: Error | undefined;
    for (const [i, clients] of shares.entries()) {
      const w = new Worker(WORKER_BOOTSTRAP, {
        eval: true,
        workerData: { options, channel, clients, raw: raw.raw === true } satisfies WorkerInput,
        // With the minimum set above: 25 SDK clients per thread allocate ~13 KB per delivery; a
        // young generation of V8's default size was collected 5 times a second, each pause a tail.
        resourceLimits: { maxYoungGenerationSizeMb: 3 * SEMI_SPACE_MB },
      });
      w.on('message', (m: FromWorker) => {
        if (m.type === 'progress') {
          slowest[i] = m.slowest;
          released?.();
          return;
        }
        inbox[i]!.push(m);
        for (const wake of waiters.splice(0)) wake();
      });
      w.on('error', (e) => {
        failure ??= new Error(`worker ${i}: ${e.message}`);
        for (const wake of waiters.splice(0)) wake();
      });
      workers.push(w);
    }
    /** Waits until every worker has sent a message of `type`, and takes those messages. */
    const fromAll = async <T extends FromWorker['type']>(type: T, timeoutMs: number): Promise<Array<Extract<FromWorker, { type: T }>>> => {
      const deadline = Date.now() + timeoutMs;
      while (!inbox.every((q) => q.some((m) => m.type === type))) {
        if (failure) throw failure;
        if (Date.now() > deadline) throw new Error(`workers did not send "${type}" within ${timeoutMs} ms`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 100);
        });
      }
      return inbox.map((q) => q.splice(q.findIndex((m) => m.type === type), 1)[0] as Extract<FromWorker, { type: T }>);
    };
    const tell = (m: ToWorker) => workers.forEach((w) => w.postMessage(m));
    await fromAll('ready', 30_000);
    progress(`${N} subscribers attached`);

    pub = new Ably.Realtime({ ...options, logLevel: 0 });
    await pub.connection.whenState('connected');
    const ch = pub.channels.get(channel);
    const payload = 'x'.repeat(100);
    const send = (t: number) => ch.publish('b', { t, payload });

    const run = async (name: string, publishLoop: (stopAtUs: number) => Promise<number>, pace = false): Promise<PhaseResult> => {
      tell({ type: 'phase', pace });
      progress(`${name}: ${seconds} s`);
      slowest.fill(0);
      const t0 = nowUs();
      const cpu0 = { svc: target.cpu(), me: process.cpuUsage() };
      const published = await publishLoop(t0 + seconds * 1e6);
      tell({ type: 'expect', perClient: published, timeoutMs: 10_000 });
      const results = await fromAll('result', 15_000);
      const elapsed = (nowUs() - t0) / 1e6;
      const me = process.cpuUsage(cpu0.me);
      const svcCpu = target.cpu();
      const hist = newHistogram();
      for (const r of results) hist.add(hdr.decodeFromCompressedBase64(r.histogram));
      const deliveries = results.reduce((n, r) => n + r.deliveries, 0);
      const ms = (v: number) => v / 1000;
      return {
        name,
        published,
        deliveries,
        seconds: elapsed,
        publishRate: published / elapsed,
        deliveryRate: deliveries / elapsed,
        p50: ms(hist.getValueAtPercentile(50)),
        p90: ms(hist.getValueAtPercentile(90)),
        p99: ms(hist.getValueAtPercentile(99)),
        max: ms(hist.maxValue),
        ...(svcCpu !== undefined && cpu0.svc !== undefined ? { serviceCpu: (svcCpu - cpu0.svc) / elapsed } : {}),
        clientsCpu: (me.user + me.system) / 1e6 / elapsed,
      };
    };

    // Warm-up so connection setup and JIT do not count.
    await Promise.all(Array.from({ length: 100 }, () => send(nowUs())));
    await new Promise((r) => setTimeout(r, 500));

    /** Open loop at `rate`; latency counts from each message's scheduled time (no coordinated omission). */
    const openLoop = async (name: string, rate: number) => {
      const late = newHistogram();
      const r = await run(name, async (stopAt) => {
        const intervalUs = 1e6 / rate;
        const start = nowUs();
        const pending: Promise<unknown>[] = [];
        for (let i = 0; ; i++) {
          const due = start + i * intervalUs;
          if (due >= stopAt) break;
          const waitMs = (due - nowUs()) / 1000;
          if (waitMs > 1) await new Promise((r) => setTimeout(r, waitMs));
          // Timers are millisecond-grained and may fire before `due`: a message sent early is
          // timed from when it was sent, a late one from when it was due (no coordinated omission).
          const now = nowUs();
          late.recordValue(Math.max(1, now - due));
          pending.push(send(Math.round(Math.min(due, now))));
        }
        await Promise.all(pending);
        return pending.length;
      });
      return { ...r, lateP99: late.getValueAtPercentile(99) / 1000 };
    };
    const rows: PhaseResult[] = [];
    if (!raw.rateOnly) {
      const max = await run('max rate', async (stopAt) => {
        let published = 0;
        const delivered = () => Math.min(...slowest);
        while (nowUs() < stopAt) {
          // Publish while fewer than `window` messages are on their way to the slowest subscriber.
          // Bounded: a lost message would otherwise hold the slowest subscriber back for ever, and
          // the run must end and report it (missing deliveries) instead of hanging.
          while (published - delivered() >= window && nowUs() < stopAt) {
            await new Promise<void>((r) => {
              const timer = setTimeout(r, 50);
              released = () => {
                clearTimeout(timer);
                r();
              };
            });
          }
          void send(nowUs());
          published++;
        }
        released = undefined;
        return published;
      }, true);
      rows.push(max, await openLoop(`half rate (${(max.publishRate / 2).toFixed(0)} msg/s)`, max.publishRate / 2));
    }
    if (fixedRate) {
      // Unrecorded first: alone, the clients' code is not yet optimized; after the overload phases,
      // their queues and garbage are still being worked off. Either would be measured instead of the steady state.
      await openLoop('settle', fixedRate);
      rows.push(await openLoop(`fixed rate (${fixedRate} msg/s)`, fixedRate));
    }
    const f = (v: number, d = 0) => v.toFixed(d);
    process.stdout.write(`\ncommand: npx tsx harness/realtime/bench/fanout.ts ${process.argv.slice(2).join(' ')}`.trimEnd() + '\n');
    process.stdout.write(
      `machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}; service ${raw.port ? `at port ${raw.port}` : raw.inProcess ? 'in process' : 'in a child process'}; ` +
        `${N} subscribers (${raw.raw ? 'raw protocol clients' : 'SDK clients'} on ${shares.length} worker thread(s)) + 1 publisher (main thread), ${useBinaryProtocol ? 'msgpack' : 'json'}, ${seconds}s per phase; load average before: ${loadBefore.map((l) => l.toFixed(2)).join(' ')}\n` +
        `idle machine: a thread sleeping 5 ms wakes late by p50 ${f(wake.p50 / 1000, 2)} ms, p99 ${f(wake.p99 / 1000, 2)} ms, max ${f(wake.max / 1000, 2)} ms (400 sleeps before the run; each delivery waits on at least three wake-ups)\n\n`,
    );
    process.stdout.write('phase                     published  deliveries  deliveries/s  p50 ms  p90 ms  p99 ms  max ms  cpu service/clients\n');
    for (const r of rows) {
      const cpu = `${r.serviceCpu === undefined ? '-' : f(r.serviceCpu, 2)} / ${f(r.clientsCpu, 2)}`;
      process.stdout.write(`${r.name.padEnd(25)} ${f(r.published).padStart(9)}  ${f(r.deliveries).padStart(10)}  ${f(r.deliveryRate).padStart(12)}  ${f(r.p50, 2).padStart(6)}  ${f(r.p90, 2).padStart(6)}  ${f(r.p99, 2).padStart(6)}  ${f(r.max, 1).padStart(6)}  ${cpu}\n`);
    }
    const late = rows.filter((r) => r.lateP99 !== undefined).map((r) => `${r.name} ${f(r.lateP99!, 2)} ms`);
    if (late.length) process.stdout.write(`\npublisher timer lateness p99 (this process's scheduling, already inside the latencies above): ${late.join('; ')}\n`);
    const lost = rows.filter((r) => r.deliveries !== r.published * N);
    if (lost.length) {
      process.stdout.write(`\nWARNING: missing deliveries in ${lost.map((r) => r.name).join(', ')}\n`);
      complete = false;
    }
  } finally {
    pub?.close();
    for (const w of workers) w.postMessage({ type: 'close' } satisfies ToWorker);
    await Promise.all(workers.map((w) => w.terminate()));
    await target.stop();
  }
}

main().then(
  () => process.exit(complete ? 0 : 1),
  (e: unknown) => {
    process.stderr.write(`error: ${(e as Error).message}\n`);
    process.exit(1);
  },
);
