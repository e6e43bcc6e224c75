/**
 * What the capture trigger costs the writers, Postgres alone (no connector, no realtime service):
 * single-row inserts from `writers` connections in a closed loop, per trigger variant, with the
 * inserts/s and Postgres CPU per insert (all of the server's processes). A LISTEN client takes the
 * notifications, as the connector would.
 *
 *   npx tsx connector/bench/postgres-cost.ts [--seconds 3] [--writers 8] [--variants LIST] [--nice N] [--profile DIR]
 *
 * Variants: `plain` (no trigger), `notify` (the original's trigger: pg_notify with the row),
 * `durable` (the connector's trigger while writers notify: outbox row + NOTIFY) and `durable-quiet`
 * (the same with `wake` cleared, as under load: outbox row, no NOTIFY). For durable variants it
 * also prints the cost of deleting acknowledged rows, in batches of 40 as the connector does.
 * `wal`: no trigger; the connector's own WAL worker (wal-reader.ts) in a process of its own, as
 * deployed, sets the table up (a publication, REPLICA IDENTITY FULL, a pgoutput slot) and reads the
 * slot throughout, acknowledging each change at once. `wal-inproc`: the same table and slot read by
 * a bare pg-logical-replication client inside this process, on the writers' event loop (how this
 * bench measured wal at first). For both, the CPU counts the WAL sender's decoding up to the moment
 * the slot has caught up with the last insert, and the line splits it: the writers' backends, the
 * WAL sender, the consumer, and this process (the writers' client), each per insert, with the WAL
 * bytes written per insert.
 *
 * `--nice N` lowers the priority of the WAL sender and the consumer (wal variants): the writers
 * then go first on the shared cores, and the decoding catches up after the measured window.
 */
import { setPriority } from 'node:os';
import { Command } from 'commander';
import pg from 'pg';
import { installSignalHandlers } from '../../harness/lib/cleanup.ts';
import { PostgresService } from '../../harness/stack/postgres/index.ts';
import { LogicalReplicationService, PgoutputPlugin } from 'pg-logical-replication';
import { OutboxQueries } from '../src/outbox.ts';
import { cpuMs, parentPid, postgresCpuMs } from './proc.ts';
import { caughtUp, connectorReader, walSender, type Reader } from './wal-reader-control.ts';
import { captureFunctionDdl, commitFunctionDdl, commitTriggerDdl, objectNames, rowTriggerDdl, tablesDdl } from '../src/sql.ts';

const VARIANTS = ['plain', 'notify', 'durable', 'durable-quiet', 'wal', 'wal-inproc'] as const;
type Variant = (typeof VARIANTS)[number];

async function install(db: pg.Client, listener: pg.Client, schema: string, v: Variant): Promise<string> {
  await db.query(`CREATE SCHEMA ${schema}`);
  const table = `${schema}.rows`;
  // No autovacuum: it would run on an earlier variant's table during a later variant's window.
  await db.query(`CREATE TABLE ${table} (id bigint PRIMARY KEY, room text NOT NULL, payload text NOT NULL, created_at timestamptz NOT NULL DEFAULT clock_timestamp()) WITH (autovacuum_enabled = false)`);
  if (v === 'notify') {
    await db.query(`CREATE FUNCTION ${schema}.notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM pg_notify('floor', json_build_object('table', TG_TABLE_NAME, 'type', TG_OP, 'row', NEW)::text); RETURN NULL; END $$`);
    await db.query(`CREATE TRIGGER t AFTER INSERT ON ${table} FOR EACH ROW EXECUTE FUNCTION ${schema}.notify()`);
    await listener.query('LISTEN floor');
  } else if (v === 'durable' || v === 'durable-quiet') {
    const n = objectNames(schema);
    for (const ddl of tablesDdl(n)) await db.query(ddl);
    for (const ddl of [captureFunctionDdl(n), commitFunctionDdl(n), commitTriggerDdl(n), rowTriggerDdl(n, table, 't', 'INSERT', 'durable')]) await db.query(ddl);
    if (v === 'durable-quiet') await db.query(`UPDATE ${n.meta} SET wake = false`);
    await listener.query(`LISTEN "${n.wakeChannel}"`);
  }
  if (v === 'wal-inproc') {
    await db.query(`ALTER TABLE ${table} REPLICA IDENTITY FULL`);
    await db.query(`CREATE PUBLICATION bench_pub FOR TABLE ${table}`);
    await db.query(`SELECT pg_create_logical_replication_slot('bench_slot', 'pgoutput')`);
  }
  return table;
}

/**
 * The first way this bench read the slot: a bare client on the writers' event loop that confirms
 * what it received every 10 ms, with a ping that makes the server report its position when idle.
 */
async function inprocReader(url: string): Promise<Reader> {
  const service = new LogicalReplicationService({ connectionString: url }, { acknowledge: { auto: false, timeoutSeconds: 0 } });
  let last = '0/0';
  service.on('data', (lsn: string) => {
    last = lsn;
  });
  service.on('heartbeat', (lsn: string) => {
    last = lsn;
  });
  service.on('error', () => {});
  void service.subscribe(new PgoutputPlugin({ protoVersion: 1, publicationNames: ['bench_pub'] }), 'bench_slot').catch(() => {});
  const timer = setInterval(() => void service.acknowledge(last, true).catch(() => {}), 10);
  return {
    slot: 'bench_slot',
    mark: () => {},
    stop: async () => {
      clearInterval(timer);
      await service.stop();
      return undefined;
    },
  };
}

const walLsn = async (db: pg.Client): Promise<bigint> => {
  const r = await db.query<{ bytes: string }>(`SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::text AS bytes`);
  return BigInt(r.rows[0]!.bytes);
};
const processMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const perInsert = (ms: number, count: number): string => `${((ms / count) * 1000).toFixed(0).padStart(4)} µs`;

interface Opts {
  seconds: number;
  writers: number;
  variants: string;
  nice: number;
  profile?: string;
}

async function main(): Promise<void> {
  // Ctrl-C and SIGTERM stop the embedded Postgres (and the reader) before exiting.
  installSignalHandlers();
  const o = new Command('postgres-cost')
    .description('Postgres-side cost of the capture trigger variants (see the file header)')
    .option('--seconds <n>', 'measured seconds per variant', (v) => Number(v), 3)
    .option('--writers <n>', 'connections inserting in a closed loop', (v) => Number(v), 8)
    .option('--variants <list>', `comma-separated, of ${VARIANTS.join(', ')}`, VARIANTS.filter((v) => v !== 'wal-inproc').join(','))
    .option('--nice <n>', 'wal variants: niceness of the WAL sender and the consumer (0-19)', (v) => Number(v), 0)
    .option('--profile <dir>', 'wal: write a CPU profile of the consumer process into this directory')
    .parse()
    .opts<Opts>();
  const chosen = o.variants.split(',').map((v) => v.trim());
  if (new Set(chosen).size !== chosen.length) throw new Error('--variants: each variant at most once');
  for (const v of chosen) if (!(VARIANTS as readonly string[]).includes(v)) throw new Error(`--variants: unknown variant ${JSON.stringify(v)} (expected ${VARIANTS.join(', ')})`);
  if (!Number.isInteger(o.nice) || o.nice < 0 || o.nice > 19) throw new Error('--nice: expected an integer 0-19');
  const postgres = await new PostgresService({ provider: 'embedded' }).start();
  try {
    const url = postgres.connectionUri;
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    const listener = new pg.Client({ connectionString: url });
    // Stopping the server on a failure ends these sessions; that is not the error to report.
    for (const c of [db, listener]) c.on('error', () => {});
    await listener.connect();
    listener.on('notification', () => {});
    const postmaster = parentPid((await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid);
    console.log(`$ npx tsx connector/bench/postgres-cost.ts --seconds ${o.seconds} --writers ${o.writers} --variants ${chosen.join(',')}${o.nice ? ` --nice ${o.nice}` : ''}`);
    let id = 0;
    for (const [i, name] of chosen.entries()) {
      const v = name as Variant;
      const schema = `v${i}`;
      const table = await install(db, listener, schema, v);
      const writers = await Promise.all(Array.from({ length: o.writers }, async () => {
        const c = new pg.Client({ connectionString: url });
        c.on('error', () => {});
        await c.connect();
        return c;
      }));
      const backends = await Promise.all(writers.map(async (c) => (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid));
      const payload = 'x'.repeat(100);
      const run = async (ms: number): Promise<number> => {
        const end = performance.now() + ms;
        let done = 0;
        await Promise.all(writers.map(async (c) => {
          while (performance.now() < end) {
            await c.query(`INSERT INTO ${table} (id, room, payload) VALUES ($1, $2, $3)`, [++id, `r${id % 4}`, payload]);
            done++;
          }
        }));
        return done;
      };
      const reader = v === 'wal' ? await connectorReader(url, schema, o.profile) : v === 'wal-inproc' ? await inprocReader(url) : undefined;
      const sender = reader ? await walSender(db, reader.slot) : undefined;
      if (o.nice && reader) for (const pid of [sender, reader.pid]) if (pid) setPriority(pid, o.nice);
      await run(500);
      if (reader) await caughtUp(db, reader.slot);
      reader?.mark();
      const cpu0 = postgresCpuMs(postmaster);
      const [writers0, sender0, self0, wal0] = [backends.reduce((t, p) => t + cpuMs(p), 0), cpuMs(sender), processMs(), await walLsn(db)];
      const t0 = performance.now();
      const count = await run(o.seconds * 1000);
      const elapsed = performance.now() - t0;
      const walBytes = Number((await walLsn(db)) - wal0);
      if (reader) await caughtUp(db, reader.slot);
      const writersMs = backends.reduce((t, p) => t + cpuMs(p), 0) - writers0;
      let line = `${v.padEnd(14)} ${((count / elapsed) * 1000).toFixed(0).padStart(6)} inserts/s   Postgres CPU ${perInsert(postgresCpuMs(postmaster) - cpu0, count)}/insert`;
      line += ` (writers' backends ${perInsert(writersMs, count)}`;
      if (reader) {
        const senderMs = cpuMs(sender) - sender0;
        const consumerMs = await reader.stop();
        line += `, WAL sender ${perInsert(senderMs, count)})`;
        if (consumerMs !== undefined) line += `   consumer ${perInsert(consumerMs, count)}`;
      } else line += ')';
      line += `   this process ${perInsert(processMs() - self0, count)}   WAL ${(walBytes / count).toFixed(0)} B/insert`;
      if (v === 'durable' || v === 'durable-quiet') {
        const n = objectNames(schema);
        const seqs = (await db.query<{ seq: string }>(`SELECT seq FROM ${n.outbox} ORDER BY seq`)).rows.map((r) => Number(r.seq));
        const q = new OutboxQueries(n);
        // Its own session: the ack is a named prepared statement, one text per session.
        const acker = writers[0]!;
        const d0 = postgresCpuMs(postmaster);
        for (let k = 0; k < seqs.length; k += 40) await q.ack(acker, seqs.slice(k, k + 40));
        line += `   + delete after ack ${(((postgresCpuMs(postmaster) - d0) / seqs.length) * 1000).toFixed(0)} µs/row`;
      }
      console.log(line);
      await Promise.all(writers.map((c) => c.end()));
    }
    await listener.end();
    await db.end();
  } finally {
    await postgres.stop();
  }
}

await main().catch((err: unknown) => {
  console.error(`postgres-cost: ${(err as Error).stack ?? String(err)}`);
  process.exitCode = 1;
});
