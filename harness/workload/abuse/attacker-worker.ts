/** Entry of the attackers' worker thread (see attacker-thread.ts). */
import { parentPort, workerData } from 'node:worker_threads';
import { lowerThreadPriority } from '../../lib/thread-priority.ts';
import { Attackers, type AttackersInit } from './attackers.ts';
import type { FromAttackers, ToAttackers } from './attacker-thread.ts';

/**
 * Real attackers make their floods on machines of their own; only refusing them is the stack's
 * work. Here they share the machine with the stack and the honest users, so this thread yields
 * the CPU to everything else (AbuseSpec.niceness): the honest users' latency then shows what
 * the floods cost the stack, not what making them cost the machine. Elsewhere than Linux the
 * attackers keep the process's priority.
 */
function lowerPriority(niceness: number): string {
  if (niceness === 0) return "attackers' thread runs at the process's priority";
  try {
    lowerThreadPriority(niceness);
    return `attackers' thread runs at nice ${niceness}: their floods yield the CPU to the stack and the honest users, as attackers on machines of their own would`;
  } catch (err) {
    return `attackers' thread keeps the process's priority (${(err as Error).message})`;
  }
}

const port = parentPort!;
const send = (m: FromAttackers) => port.postMessage(m);
const init = workerData as AttackersInit;
const attackers = new Attackers(init, (line) => send({ kind: 'say', line }));
send({ kind: 'say', line: lowerPriority(init.spec.niceness) });
port.on('message', (m: ToAttackers) => {
  if (m.kind === 'start') attackers.start(m.step);
  else attackers.settle().then((tallies) => send({ kind: 'settled', tallies }), (err: unknown) => send({ kind: 'fatal', error: String(err) }));
});
