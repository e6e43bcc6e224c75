/**
 * Lowering one thread's priority. Linux keeps a niceness per thread, and setpriority() given a
 * thread id changes that thread alone: a worker thread can yield the CPU to the rest of its
 * process and to other processes without slowing them.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/**
 * Gives the calling thread `niceness` (0-19; lowering needs no privilege) and returns its id.
 * Throws where threads have no id of their own in /proc (not Linux).
 */
export function lowerThreadPriority(niceness: number): number {
  // /proc/thread-self names the calling thread: "<pid>/task/<tid>".
  const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
  if (!Number.isInteger(tid) || tid <= 0) throw new Error(`no thread id in /proc/thread-self`);
  setPriority(tid, niceness);
  return tid;
}
