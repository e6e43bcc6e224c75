/**
 * Worker thread of the fan-out benchmark: a share of the subscribing SDK clients. It records
 * publish-to-receive latency (shared monotonic clock, microseconds) in its own HDR histogram and
 * hands it to the main thread at the end of each phase.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as Ably from 'ably';
import * as hdr from 'hdr-histogram-js';

export interface WorkerInput {
  options: Ably.ClientOptions;
  channel: string;
  clients: number;
}

export type ToWorker = { type: 'phase' } | { type: 'expect'; perClient: number; timeoutMs: number } | { type: 'close' };
export type FromWorker = { type: 'ready' } | { type: 'progress'; slowest: number } | { type: 'result'; deliveries: number; histogram: string };

/** Microseconds on CLOCK_MONOTONIC: the same clock in every thread of the process. */
export const nowUs = (): number => Number(process.hrtime.bigint() / 1000n);

export function newHistogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
}

if (parentPort) {
  const port = parentPort;
  const input = workerData as WorkerInput;
  let hist: hdr.Histogram | undefined;
  let deliveries = 0;
  let target = Number.POSITIVE_INFINITY;
  let reached: (() => void) | undefined;
  const clients = Array.from({ length: input.clients }, () => new Ably.Realtime({ ...input.options, logLevel: 0 }));
  /** Messages each client has received this phase: the slowest one paces the publisher. */
  const counts = clients.map(() => 0);
  let reported = -1;
  const progress = setInterval(() => {
    const slowest = Math.min(...counts);
    if (hist && slowest !== reported) port.postMessage({ type: 'progress', slowest: (reported = slowest) } satisfies FromWorker);
  }, 1);

  const onMessage = (i: number) => (m: Ably.InboundMessage) => {
    if (!hist) return;
    counts[i]!++;
    hist.recordValue(Math.max(1, nowUs() - (m.data as { t: number }).t));
    if (++deliveries >= target) reached?.();
  };

  void Promise.all(
    clients.map(async (c, i) => {
      await c.connection.whenState('connected');
      await c.channels.get(input.channel).subscribe(onMessage(i));
    }),
  ).then(() => port.postMessage({ type: 'ready' } satisfies FromWorker));

  port.on('message', (msg: ToWorker) => {
    if (msg.type === 'phase') {
      hist = newHistogram();
      deliveries = 0;
      counts.fill(0);
      reported = -1;
      target = Number.POSITIVE_INFINITY;
    } else if (msg.type === 'expect') {
      target = msg.perClient * input.clients;
      const done = new Promise<void>((resolve) => {
        reached = resolve;
        if (deliveries >= target) resolve();
        setTimeout(resolve, msg.timeoutMs);
      });
      void done.then(() => {
        const h = hist!;
        hist = undefined;
        port.postMessage({ type: 'result', deliveries, histogram: hdr.encodeIntoCompressedBase64(h) } satisfies FromWorker);
      });
    } else {
      clearInterval(progress);
      for (const c of clients) c.close();
      port.close();
    }
  });
}
