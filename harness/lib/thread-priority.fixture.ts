/** Worker entry for thread-priority.test.ts: lowers its own priority and says its thread id. */
import { parentPort, workerData } from 'node:worker_threads';
import { lowerThreadPriority } from './thread-priority.ts';

parentPort!.postMessage(lowerThreadPriority(workerData as number));
