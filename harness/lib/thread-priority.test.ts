/** A worker thread lowers its own priority and no other thread's. */
import { readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { bootstrap } from '../workload/worker-pool.ts';

/** The niceness in /proc/<pid>/task/<tid>/stat (field 19, counted after the command's closing parenthesis). */
const niceOf = (tid: number) => Number(readFileSync(`/proc/${process.pid}/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ')[16]);

describe('lowerThreadPriority', () => {
  it('gives the calling worker thread the niceness, and leaves the process main thread as it was', async () => {
    const before = getPriority();
    const entry = new URL('./thread-priority.fixture.ts', import.meta.url);
    const worker = new Worker(bootstrap(entry), { eval: true, workerData: 19 });
    const tid = await new Promise<number>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    try {
      expect(tid).not.toBe(process.pid);
      expect(niceOf(tid)).toBe(19);
      expect(niceOf(process.pid)).toBe(before);
      expect(getPriority()).toBe(before);
    } finally {
      await worker.terminate();
    }
  });
});
