/**
 * Embedded Postgres start-to-ready time (initdb + start + first accepted connection).
 * Run: npx tsx harness/stack/bench/postgres-startup.ts [runs]
 */
import pg from 'pg';
import { installSignalHandlers } from '../../lib/cleanup.ts';
import { PostgresService } from '../postgres/index.ts';

const runs = Number(process.argv[2] ?? 7);
const ready: number[] = [];
const stops: number[] = [];
// Ctrl-C and SIGTERM stop the Postgres being timed before exiting.
installSignalHandlers();
for (let i = 0; i < runs; i++) {
  const t0 = performance.now();
  const started = await new PostgresService({ provider: 'embedded' }).start();
  const c = new pg.Client({ connectionString: started.connectionUri });
  await c.connect();
  await c.end();
  ready.push(performance.now() - t0);
  const t1 = performance.now();
  await started.stop();
  stops.push(performance.now() - t1);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`command: npx tsx harness/stack/bench/postgres-startup.ts ${runs}`);
console.log(`embedded postgres start-to-ready: median ${median(ready).toFixed(0)} ms over ${runs} runs (min ${Math.min(...ready).toFixed(0)}, max ${Math.max(...ready).toFixed(0)})`);
console.log(`stop: median ${median(stops).toFixed(0)} ms`);
