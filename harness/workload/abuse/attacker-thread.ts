/**
 * The attackers' own worker thread: the main thread only says which attack starts when and, at
 * the end, receives the tallies. An attacker's busy loop (a flood, thousands of NACKs to parse)
 * then costs the run's scheduler and recorder nothing but a core's share, as a separate machine's
 * attacker would.
 */
import { Worker } from 'node:worker_threads';
import { registerCleanup } from '../../lib/cleanup.ts';
import { bootstrap } from '../worker-pool.ts';
import type { AttackersInit } from './attackers.ts';
import type { AttackClass } from './classes.ts';
import type { TallySnapshot } from './tally.ts';

export type ToAttackers = { kind: 'start'; step: AttackClass } | { kind: 'settle' };
export type FromAttackers = { kind: 'say'; line: string } | { kind: 'settled'; tallies: TallySnapshot[] } | { kind: 'fatal'; error: string };

export class AttackerThread {
  private readonly worker: Worker;
  private readonly ended: Promise<TallySnapshot[]>;
  private readonly unregister: () => void;

  constructor(init: AttackersInit, say: (line: string) => void) {
    this.worker = new Worker(bootstrap(new URL('./attacker-worker.ts', import.meta.url)), { eval: true, workerData: init });
    // A run that fails before its attackers settle must not be kept alive by their clients.
    this.worker.unref();
    this.ended = new Promise((resolve, reject) => {
      this.worker.on('message', (m: FromAttackers) => {
        if (m.kind === 'say') say(m.line);
        else if (m.kind === 'settled') resolve(m.tallies);
        else reject(new Error(`attackers' thread: ${m.error}`));
      });
      this.worker.on('error', reject);
      this.worker.on('exit', (code) => reject(new Error(`attackers' thread exited with code ${code}`)));
    });
    this.ended.catch(() => {});
    this.unregister = registerCleanup({ name: "attackers' thread", stop: () => this.stop() });
  }

  start(step: AttackClass): void {
    this.post({ kind: 'start', step });
  }

  /** Every attack's tally once all have ended and the attackers' clients are closed; then the thread ends. */
  async settle(): Promise<TallySnapshot[]> {
    // Awaited now: the thread keeps the process alive until it has answered.
    this.worker.ref();
    this.post({ kind: 'settle' });
    try {
      return await this.ended;
    } finally {
      await this.stop();
    }
  }

  async stop(): Promise<void> {
    this.unregister();
    await this.worker.terminate();
  }

  private post(m: ToAttackers): void {
    this.worker.postMessage(m);
  }
}
