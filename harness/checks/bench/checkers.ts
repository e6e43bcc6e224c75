/**
 * How long checking a large run takes: a simulated edit storm (rooms x readers x ops), written as
 * NDJSON, read back, checked, measured and reported.  npx tsx harness/checks/bench/checkers.ts [ops] [readersPerRoom]
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { simulate, type SimClient, type SimOp } from '../../history/simulate.ts';
import { readRun, writeFinalState } from '../../history/writer.ts';
import { buildReport } from '../../report/build.ts';
import { computeMetrics } from '../metrics.ts';
import { makeCheckers, runChecker } from '../index.ts';
import { indexRun } from '../model.ts';
import type { CheckResult } from '../../history/types.ts';

const ops = Number(process.argv[2] ?? 6000);
const readers = Number(process.argv[3] ?? 50);
const rooms = 4;

let seed = 42;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);

const clients: SimClient[] = [];
for (let r = 0; r < rooms; r++) for (let i = 0; i < readers; i++) clients.push({ id: `u${r}-${i}`, room: `room${r}` });
const posts: { id: string; client: string }[][] = Array.from({ length: rooms }, () => []);
const simOps: SimOp[] = [];
for (let i = 0; i < ops; i++) {
  const t = (i / ops) * 30_000;
  const room = i % rooms;
  const client = `u${room}-${Math.floor(rand() * Math.min(readers, 10))}`;
  const mine = posts[room]!.filter((p) => p.client === client);
  const roll = rand();
  if (roll < 0.3 || mine.length === 0) {
    posts[room]!.push({ id: `p${i}`, client });
    simOps.push({ t, op: 'post', client, id: `p${i}`, commitDelay: 2 + rand() * 4 });
  } else {
    // Hot messages: most edits go to the author's first two messages.
    const target = mine[Math.floor(rand() * Math.min(mine.length, roll < 0.9 ? 2 : mine.length))]!;
    simOps.push({ t, op: roll < 0.97 ? 'edit' : 'delete', client, id: `o${i}`, target: target.id, commitDelay: 2 + rand() * 4 });
  }
}

const time = async <T>(label: string, f: () => T | Promise<T>): Promise<T> => {
  const t0 = performance.now();
  const v = await f();
  console.log(`${label.padEnd(22)} ${(performance.now() - t0).toFixed(0).padStart(6)} ms`);
  return v;
};

const run = await time('simulate', () => simulate({ clients, ops: simOps }));
console.log(`history: ${run.history.length} events, ${run.history.filter((e) => e.type === 'receive').length} receipts, ${run.final.rows.length} rows`);
const dir = await mkdtemp(join(tmpdir(), 'bench-'));
try {
  await time('write NDJSON', async () => {
    await writeFile(join(dir, 'history.ndjson'), run.history.map((e) => JSON.stringify(e)).join('\n') + '\n');
    await writeFinalState(join(dir, 'final-state.json'), run.final);
  });
  const back = await time('readRun (validated)', () => readRun(dir));
  await time('index', () => indexRun(back.history, back.final));
  const checks: CheckResult[] = [];
  for (const [name, checker] of Object.entries(makeCheckers())) checks.push(await time(`  ${name}`, () => runChecker(name, checker, back.history, back.final)));
  await time('computeMetrics', () => computeMetrics(back.history, back.final));
  await time('buildReport', () => buildReport({ scenario: 'bench', history: back.history, final: back.final, checks }));
  console.log(checks.map((c) => `${c.name}=${String(c.valid)}`).join(' '));
  console.log(`heap used ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MiB`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
