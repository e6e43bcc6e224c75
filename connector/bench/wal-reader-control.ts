/** Starting and stopping the bench's WAL consumer (wal-reader.ts) and watching its slot, for postgres-cost.ts and wal-consumer.ts. */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type pg from 'pg';
import { killSync, registerCleanup, stopChild } from '../../harness/lib/cleanup.ts';
import type { ReaderReply } from './wal-reader.ts';

export interface Reader {
  slot: string;
  /** The consumer's process, when it has one of its own. */
  pid?: number;
  /** Starts the measured window (the consumer's own CPU count, where it keeps one). */
  mark(): void;
  /** Stops reading; the consumer's CPU in the measured window when it is a process of its own. */
  stop(): Promise<number | undefined>;
}

function nextReply(child: ChildProcess): Promise<ReaderReply> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`wal-reader exited ${code}`));
    child.once('exit', onExit);
    child.once('message', (m) => {
      child.off('exit', onExit);
      const r = m as ReaderReply;
      if ('error' in r) reject(new Error(`wal-reader: ${r.error}`));
      else resolve(r);
    });
  });
}

/** The connector's WAL worker in a process of its own (wal-reader.ts). */
export async function connectorReader(url: string, schema: string, profileDir?: string): Promise<Reader> {
  const child = fork(join(import.meta.dirname, 'wal-reader.ts'), [JSON.stringify({ url, schema, table: 'rows' })], {
    execArgv: ['--import', 'tsx', ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  // However the bench ends, the reader does not outlive it (it also exits when the channel closes).
  const unregister = registerCleanup({ name: 'wal-reader', stop: () => stopChild(child), stopSync: () => killSync(child.pid, 'SIGTERM') });
  child.once('exit', unregister);
  const ready = await nextReply(child);
  if (!('ready' in ready)) throw new Error('wal-reader: expected ready');
  return {
    slot: ready.slot,
    pid: child.pid,
    mark: () => child.send('mark'),
    stop: async () => {
      const done = nextReply(child);
      child.send('stop');
      const r = await done;
      await new Promise((res) => (child.exitCode === null ? child.once('exit', res) : res(null)));
      return 'stopped' in r ? r.cpuMs : undefined;
    },
  };
}

/** Until the slot has confirmed everything written so far (the decoding work is then done). */
export async function caughtUp(db: pg.Client, slot: string): Promise<void> {
  const target = (await db.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!.lsn;
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; ) {
    const r = await db.query<{ done: boolean }>('SELECT confirmed_flush_lsn >= $1::pg_lsn AS done FROM pg_replication_slots WHERE slot_name = $2', [target, slot]);
    if (r.rows[0]?.done) return;
    await new Promise((res) => setTimeout(res, 5));
  }
  throw new Error('the slot did not catch up within 60 s');
}

/** The WAL sender serving the slot, once the consumer has started streaming. */
export async function walSender(db: pg.Client, slot: string): Promise<number> {
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; ) {
    const r = await db.query<{ pid: number | null }>('SELECT active_pid AS pid FROM pg_replication_slots WHERE slot_name = $1', [slot]);
    if (r.rows[0]?.pid) return r.rows[0].pid;
    await new Promise((res) => setTimeout(res, 10));
  }
  throw new Error(`no WAL sender on slot ${slot} within 10 s`);
}
