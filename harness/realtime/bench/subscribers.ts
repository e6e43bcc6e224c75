/**
 * Worker thread of the fan-out benchmark: a share of the subscribing SDK clients. It records
 * publish-to-receive latency (shared monotonic clock, microseconds) in its own HDR histogram and
 * hands it to the main thread at the end of each phase.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { decode } from '@msgpack/msgpack';
import * as Ably from 'ably';
import * as hdr from 'hdr-histogram-js';
import WebSocket from 'ws';

export interface WorkerInput {
  options: Ably.ClientOptions & { endpoint: string; port: number; key: string };
  channel: string;
  clients: number;
  /** Minimal protocol clients instead of the SDK: measures the service without the SDK's decoding cost. */
  raw: boolean;
}

interface Subscriber {
  close(): void;
}

/** SDK subscriber: resolves once attached; calls `onData` with each message's data. */
async function sdkSubscriber(input: WorkerInput, onData: (data: unknown) => void): Promise<Subscriber> {
  const c = new Ably.Realtime({ ...input.options, logLevel: 0 });
  await c.connection.whenState('connected');
  await c.channels.get(input.channel).subscribe((m) => onData(m.data));
  return c;
}

/** Just enough of the protocol to attach and read MESSAGE frames (MessagePack or JSON). */
function rawSubscriber(input: WorkerInput, onData: (data: unknown) => void): Promise<Subscriber> {
  const { endpoint, port, key, useBinaryProtocol } = input.options;
  const format = useBinaryProtocol === false ? 'json' : 'msgpack';
  const ws = new WebSocket(`ws://${endpoint}:${port}/?key=${encodeURIComponent(key)}&format=${format}&v=6`);
  return new Promise((resolve, reject) => {
    ws.on('error', reject);
    ws.on('message', (buf: Buffer, isBinary: boolean) => {
      const pm = (isBinary ? decode(buf) : JSON.parse(buf.toString())) as { action: number; messages?: Array<{ data: string; encoding?: string }> };
      if (pm.action === 4) ws.send(JSON.stringify({ action: 10, channel: input.channel }));
      else if (pm.action === 11) resolve({ close: () => ws.close() });
      else if (pm.action === 15) for (const m of pm.messages ?? []) onData(m.encoding === 'json' ? JSON.parse(m.data) : m.data);
    });
  });
}

export type ToWorker = { type: 'phase'; pace: boolean } | { type: 'expect'; perClient: number; timeoutMs: number } | { type: 'close' };
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
  /** Messages each client has received this phase: the slowest one paces the publisher. */
  const counts = Array.from({ length: input.clients }, () => 0);
  let clients: Subscriber[] = [];
  let reported = -1;
  // Progress paces the publisher in the max-rate phase only: elsewhere its 1 ms timer would be
  // the benchmark's own load, competing with the clients it measures.
  let progress: NodeJS.Timeout | undefined;
  const reportProgress = () => {
    const slowest = Math.min(...counts);
    if (hist && slowest !== reported) port.postMessage({ type: 'progress', slowest: (reported = slowest) } satisfies FromWorker);
  };

  const onData = (i: number) => (data: unknown) => {
    if (!hist) return;
    counts[i]!++;
    hist.recordValue(Math.max(1, nowUs() - (data as { t: number }).t));
    if (++deliveries >= target) reached?.();
  };

  void Promise.all(counts.map((_, i) => (input.raw ? rawSubscriber : sdkSubscriber)(input, onData(i)))).then((subs) => {
    clients = subs;
    port.postMessage({ type: 'ready' } satisfies FromWorker);
  });

  port.on('message', (msg: ToWorker) => {
    if (msg.type === 'phase') {
      clearInterval(progress);
      progress = msg.pace ? setInterval(reportProgress, 1) : undefined;
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
