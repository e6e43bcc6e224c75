/** Entry of the attackers' worker thread (see attacker-thread.ts). */
import { parentPort, workerData } from 'node:worker_threads';
import { Attackers, type AttackersInit } from './attackers.ts';
import type { FromAttackers, ToAttackers } from './attacker-thread.ts';

const port = parentPort!;
const send = (m: FromAttackers) => port.postMessage(m);
const attackers = new Attackers(workerData as AttackersInit, (line) => send({ kind: 'say', line }));
port.on('message', (m: ToAttackers) => {
  if (m.kind === 'start') attackers.start(m.step);
  else attackers.settle().then((tallies) => send({ kind: 'settled', tallies }), (err: unknown) => send({ kind: 'fatal', error: String(err) }));
});
