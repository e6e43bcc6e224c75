/**
 * Connector benchmark: sustained changes/s and commit-to-subscriber latency through the connector
 * (durable mode), next to the bare floor measured in the same run: INSERT -> trigger pg_notify ->
 * a plain `pg` LISTEN client. Both paths see the same writers, the same table shape and the same
 * Postgres; the connector and the realtime service run as their own processes, as deployed.
 *
 *   npx tsx connector/bench/throughput.ts [--seconds 5] [--writers 8] [--rate 200] [--rooms 4] [--modes durable,notify,wal]
 *
 * `--modes` runs one connector per mode, side by side on the same Postgres (each on its own schema
 * and table, so each is leader of its own), one after another in each phase.
 *
 * Throughput: `writers` connections insert single-row transactions in a closed loop for `seconds`;
 * the figure is deliveries per second during that window. Latency: an open loop at `rate`/s
 * (measured from each insert's scheduled start, so a slow commit does not hide queueing).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as Ably from 'ably';
import { Command } from 'commander';
import * as hdr from 'hdr-histogram-js';
import pg from 'pg';
import { installSignalHandlers, killSync, registerCleanup, removeDirSync, stopChild } from '../../harness/lib/cleanup.ts';
import { PostgresService } from '../../harness/stack/postgres/index.ts';
import { cpuMs, parentPid, postgresCpuMs } from './proc.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const CONNECTOR_KEY = 'app.conn:s';

interface Opts {
  seconds: number;
  writers: number;
  rate: number;
  rooms: number;
  profile?: string;
  pullAbove?: number;
  modes: string;
}

const MODES = ['durable', 'notify', 'wal'] as const;
type Mode = (typeof MODES)[number];

function child(args: string[], env: Record<string, string>, ready: RegExp, nodeArgs: string[] = []): Promise<{ proc: ChildProcess; match: RegExpExecArray }> {
  const proc = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  // However the bench ends (Ctrl-C, SIGTERM, an error), its children do not outlive it.
  const unregister = registerCleanup({ name: args[0]!, stop: () => stopChild(proc), stopSync: () => killSync(proc.pid, 'SIGTERM') });
  proc.once('exit', unregister);
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args[0]} not ready: ${out}`)), 30_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = ready.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ proc, match: m });
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    proc.once('exit', (code) => reject(new Error(`${args[0]} exited ${code}: ${out}`)));
  });
}

/** Where deliveries of one path are observed: id -> arrival time. */
type Sink = (id: number, at: number) => void;

interface Path {
  name: string;
  table: string;
  setSink(s: Sink): void;
  /** The connector process of this path, if any (for its CPU). */
  pid?: number;
}

async function closedLoop(url: string, path: Path, o: Opts, startId: number, sample: () => CpuSample): Promise<{ rate: number; written: number; cpu: [CpuSample, CpuSample] }> {
  let delivered = 0;
  let windowEnd = Infinity;
  path.setSink((_id, at) => {
    if (at <= windowEnd) delivered++;
  });
  const clients = await Promise.all(Array.from({ length: o.writers }, async () => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    return c;
  }));
  let next = startId;
  let written = 0;
  const before = sample();
  const t0 = performance.now();
  const until = t0 + o.seconds * 1000;
  await Promise.all(
    clients.map(async (c) => {
      while (performance.now() < until) {
        const id = next++;
        await c.query(`INSERT INTO ${path.table} (id, room, payload) VALUES ($1, $2, 'benchmark payload of a typical chat line')`, [id, `r${id % o.rooms}`]);
        written++;
      }
    }),
  );
  windowEnd = performance.now();
  const after = sample(); // before the writers' backends exit and take their CPU time with them
  const rate = delivered / ((windowEnd - t0) / 1000);
  await Promise.all(clients.map((c) => c.end()));
  return { rate, written, cpu: [before, after] };
}

async function openLoop(url: string, path: Path, o: Opts, startId: number): Promise<hdr.Histogram> {
  const hist = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
  const scheduled = new Map<number, number>();
  path.setSink((id, at) => {
    const t = scheduled.get(id);
    if (t === undefined) return;
    scheduled.delete(id);
    hist.recordValue(Math.max(1, Math.round((at - t) * 1000))); // microseconds
  });
  const idle: pg.Client[] = await Promise.all(Array.from({ length: o.writers }, async () => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    return c;
  }));
  const all = [...idle];
  const queue: Array<{ id: number; at: number }> = [];
  const total = Math.round(o.rate * o.seconds);
  const t0 = performance.now() + 50;
  let inflight = 0;
  const pump = () => {
    while (idle.length && queue.length) {
      const c = idle.pop()!;
      const job = queue.shift()!;
      inflight++;
      c.query(`INSERT INTO ${path.table} (id, room, payload) VALUES ($1, $2, 'benchmark payload of a typical chat line')`, [job.id, `r${job.id % o.rooms}`]).then(() => {
        inflight--;
        idle.push(c);
        pump();
      });
    }
  };
  for (let i = 0; i < total; i++) {
    const at = t0 + (i * 1000) / o.rate;
    const wait = at - performance.now();
    // Always yield first: at 1 ms intervals and less, spinning alone would starve the clients' replies.
    await new Promise((r) => (wait > 1 ? setTimeout(r, wait - 1) : setImmediate(r)));
    while (performance.now() < at) {
      /* spin the last millisecond: timers are coarser than what we measure */
    }
    scheduled.set(startId + i, at);
    queue.push({ id: startId + i, at });
    pump();
  }
  const deadline = performance.now() + 30_000;
  while ((inflight > 0 || scheduled.size > 0) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  if (scheduled.size) console.error(`${path.name}: ${scheduled.size} changes not delivered within 30 s`);
  await Promise.all(all.map((c) => c.end()));
  return hist;
}

const ms = (us: number) => (us / 1000).toFixed(2);

interface CpuSample {
  connector: number;
  realtime: number;
  bench: number;
  postgres: number;
}

async function main(): Promise<void> {
  installSignalHandlers();
  const program = new Command('throughput')
    .option('--seconds <n>', 'length of each phase', (v) => Number(v), 5)
    .option('--writers <n>', 'concurrent writer connections', (v) => Number(v), 8)
    .option('--rate <n>', 'open-loop inserts per second for the latency phase', (v) => Number(v), 200)
    .option('--rooms <n>', 'channels (rooms) the changes spread over', (v) => Number(v), 4)
    .option('--pull-above <n>', "the connector's timing.pullAbovePerSecond (default: the connector's own, 1000; 0: writers always NOTIFY)", (v) => Number(v))
    .option('--modes <list>', `connector modes to measure, comma-separated, of ${MODES.join(', ')}`, 'durable')
    .option('--profile <dir>', 'write V8 CPU profiles (node --cpu-prof) of the connector and realtime processes into <dir>')
    .parse();
  const o = program.opts<Opts>();
  const modes = o.modes.split(',').map((m) => m.trim()) as Mode[];
  for (const m of modes) if (!MODES.includes(m)) throw new Error(`--modes: unknown mode ${JSON.stringify(m)} (expected ${MODES.join(', ')})`);
  const command = `npx tsx connector/bench/throughput.ts --seconds ${o.seconds} --writers ${o.writers} --rate ${o.rate} --rooms ${o.rooms}${o.pullAbove === undefined ? '' : ` --pull-above ${o.pullAbove}`}${o.modes === 'durable' ? '' : ` --modes ${modes.join(',')}`}`;
  const procs: ChildProcess[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'connector-bench-'));
  registerCleanup({ name: 'bench directory', stop: async () => removeDirSync(dir), stopSync: () => removeDirSync(dir) });
  const postgres = await new PostgresService({ provider: 'embedded' }).start();
  try {
    const admin = new pg.Client({ connectionString: postgres.connectionUri });
    await admin.connect();
    await admin.query('CREATE DATABASE bench');
    await admin.end();
    const u = new URL(postgres.connectionUri);
    u.pathname = '/bench';
    const url = u.toString();
    const db = new pg.Client({ connectionString: url });
    // Reported, not thrown: on Ctrl-C Postgres stops under this connection while the rest is torn down.
    db.on('error', (err) => process.stderr.write(`bench database connection: ${err.message}\n`));
    await db.connect();
    const postmaster = parentPid((await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid);
    for (const m of modes) await db.query(`CREATE SCHEMA m_${m}`);
    for (const t of ['floor_rows', ...modes.map((m) => `m_${m}.rows`)]) {
      await db.query(`CREATE TABLE ${t} (id bigint PRIMARY KEY, room text NOT NULL, payload text NOT NULL, created_at timestamptz NOT NULL DEFAULT clock_timestamp())`);
    }
    // The floor: the original connector's trigger, listened to by a plain client.
    await db.query(`CREATE FUNCTION floor_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM pg_notify('floor', json_build_object('table', TG_TABLE_NAME, 'type', TG_OP, 'row', NEW)::text); RETURN NULL; END $$`);
    await db.query('CREATE TRIGGER floor_notify AFTER INSERT ON floor_rows FOR EACH ROW EXECUTE FUNCTION floor_notify()');
    let floorSink: Sink = () => {};
    db.on('notification', (n) => floorSink((JSON.parse(n.payload!) as { row: { id: number } }).row.id, performance.now()));
    await db.query('LISTEN floor');

    const profile = o.profile ? ['--cpu-prof', '--cpu-prof-dir', o.profile] : [];
    const rt = await child(['harness/cli/realtime.ts', '--json', '--log-level', 'warn', '--key', CONNECTOR_KEY], {}, /^(\{.*\})\n/m, profile);
    procs.push(rt.proc);
    const ep = JSON.parse(rt.match[1]!) as { host: string; port: number };
    const env = { ABLY_API_KEY: CONNECTOR_KEY, ABLY_HOST: ep.host, ABLY_PORT: String(ep.port), ABLY_TLS: 'false' };
    const sub = new Ably.Realtime({ endpoint: ep.host, port: ep.port, tls: false, key: CONNECTOR_KEY, logLevel: 0,
      connectivityCheckUrl: `http://${ep.host}:${ep.port}/connectivity-check`, wsConnectivityCheckUrl: `ws://${ep.host}:${ep.port}/ws-connectivity-check` });
    const connectors: Path[] = [];
    for (const mode of modes) {
      const cfgPath = join(dir, `bench-${mode}.json`);
      const schemaUrl = new URL(url);
      schemaUrl.searchParams.set('options', `-c search_path=m_${mode}`);
      writeFileSync(cfgPath, JSON.stringify({
        connector: [{ tablename: 'rows', ablychannelname: `bench-${mode}:{room}:incoming`, operation: 'INSERT' }],
        extensions: { database: { url: schemaUrl.toString() }, channelTemplates: true, mode, ...(o.pullAbove === undefined ? {} : { timing: { pullAbovePerSecond: o.pullAbove } }) },
      }));
      const conn = await child(['connector/src/cli.ts', '--config', cfgPath, '--log-level', 'warn'], env, /connector ready: (\S+)/, profile);
      if (o.profile) process.stderr.write(`profiles in ${o.profile}: ${mode} connector pid ${conn.proc.pid}, realtime pid ${rt.proc.pid}\n`);
      procs.push(conn.proc);
      let sink: Sink = () => {};
      await Promise.all(Array.from({ length: o.rooms }, (_, i) =>
        sub.channels.get(`bench-${mode}:r${i}:incoming`).subscribe((m) => sink((m.data as { row: { id: number } }).row.id, performance.now()))));
      connectors.push({ name: `connector (${mode}, via realtime)`, table: `m_${mode}.rows`, setSink: (s) => (sink = s), pid: conn.proc.pid! });
    }

    const floor: Path = { name: 'floor', table: 'floor_rows', setSink: (s) => (floorSink = s) };
    process.stderr.write('warming up...\n');
    await openLoop(url, floor, { ...o, seconds: 1 }, 1_000_000);
    for (const c of connectors) await openLoop(url, c, { ...o, seconds: 1 }, 1_000_000);
    process.stderr.write('throughput phase...\n');
    const sampler = (path: Path) => (): CpuSample => ({ connector: path.pid ? cpuMs(path.pid) : 0, realtime: cpuMs(rt.proc.pid), bench: cpuMs(process.pid), postgres: postgresCpuMs(postmaster) });
    const perChange = (a: CpuSample, b: CpuSample, n: number) =>
      (Object.keys(a) as Array<keyof CpuSample>).map((k) => `${k} ${(((b[k] - a[k]) / n) * 1000).toFixed(0)}`).join(', ');
    const ft = await closedLoop(url, floor, o, 2_000_000, sampler(floor));
    const cts: Array<Awaited<ReturnType<typeof closedLoop>>> = [];
    for (const c of connectors) cts.push(await closedLoop(url, c, o, 2_000_000, sampler(c)));
    process.stderr.write('latency phase...\n');
    const fl = await openLoop(url, floor, o, 3_000_000);
    const cls: hdr.Histogram[] = [];
    for (const c of connectors) cls.push(await openLoop(url, c, o, 3_000_000));

    const row = (name: string, rate: number, h: hdr.Histogram) =>
      `${name.padEnd(34)} ${rate.toFixed(0).padStart(10)} ${[50, 90, 99, 99.9].map((p) => ms(h.getValueAtPercentile(p)).padStart(8)).join('')} ${ms(h.maxValue).padStart(8)} ${String(h.totalCount).padStart(7)}`;
    console.log(`\n$ ${command}`);
    console.log(`${''.padEnd(34)} ${'changes/s'.padStart(10)} ${['p50', 'p90', 'p99', 'p99.9'].map((s) => s.padStart(8)).join('')} ${'max'.padStart(8)} ${'n'.padStart(7)}   (latency in ms)`);
    console.log(row('floor (INSERT -> NOTIFY -> LISTEN)', ft.rate, fl));
    connectors.forEach((c, i) => console.log(row(c.name, cts[i]!.rate, cls[i]!)));
    connectors.forEach((c, i) => {
      const addedP50 = (cls[i]!.getValueAtPercentile(50) - fl.getValueAtPercentile(50)) / 1000;
      const share = cts[i]!.rate / ft.rate;
      console.log(`\n${c.name}: adds ${addedP50.toFixed(2)} ms at p50 over the floor (target < 2 ms): ${addedP50 < 2 ? 'met' : 'NOT met'}`);
      console.log(`${c.name}: sustains ${(share * 100).toFixed(0)}% of the floor's throughput (target >= 80%): ${share >= 0.8 ? 'met' : 'NOT met'}`);
    });
    console.log(`writes in the throughput window: floor ${ft.written}, ${connectors.map((c, i) => `${c.name} ${cts[i]!.written}`).join(', ')}; latency phase ${o.rate}/s for ${o.seconds} s over ${o.writers} connections, ${o.rooms} rooms`);
    console.log(`CPU per change in the throughput window, µs (${cpus().length} cores): floor: ${perChange(...ft.cpu, ft.written)}; ${connectors.map((c, i) => `${c.name}: ${perChange(...cts[i]!.cpu, cts[i]!.written)}`).join('; ')}`);
    sub.close();
    await db.end();
  } finally {
    for (const p of procs.reverse()) await stopChild(p);
    await postgres.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    process.stderr.write(`error: ${err.message.split('\n')[0]}\n`);
    process.exit(1);
  },
);
