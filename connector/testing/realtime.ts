/** Test helpers: the local realtime service, subscribers through the real SDK, waits with deadlines. */
import * as Ably from 'ably';
import { RealtimeService, type StartedRealtime } from '../../harness/realtime/index.ts';

export const CONNECTOR_KEY = { keyName: 'app.conn', secret: 's', capability: { 'chat:*:incoming': ['publish'], '*': ['publish', 'subscribe', 'history'] } };
export const SUBSCRIBER_KEY = { keyName: 'app.sub', secret: 't', capability: { '*': ['subscribe', 'history'] } };

export async function startRealtime(maxMessageSize = 65536): Promise<StartedRealtime> {
  return new RealtimeService({ keys: [CONNECTOR_KEY, SUBSCRIBER_KEY], maxMessageSize }).start();
}

/** The environment a connector reads its realtime target from (docs/architecture.md, Contracts). */
export function realtimeEnv(rt: StartedRealtime): Record<string, string> {
  return { ABLY_API_KEY: `${CONNECTOR_KEY.keyName}:${CONNECTOR_KEY.secret}`, ABLY_HOST: rt.host, ABLY_PORT: String(rt.port), ABLY_TLS: 'false' };
}

export interface Received {
  channel: string;
  id: string;
  name: string;
  data: { table: string; type: string; row: Record<string, unknown>; position?: number[] };
  at: number;
}

/** One subscriber connection collecting everything on the given channels, in arrival order. */
export class Subscriber {
  readonly client: Ably.Realtime;
  readonly got: Received[] = [];

  constructor(rt: StartedRealtime) {
    this.client = new Ably.Realtime({ ...rt.clientOptions(), key: `${SUBSCRIBER_KEY.keyName}:${SUBSCRIBER_KEY.secret}`, logLevel: 0 });
  }

  async subscribe(...channels: string[]): Promise<void> {
    await Promise.all(
      channels.map((name) =>
        this.client.channels.get(name).subscribe((m) => {
          this.got.push({ channel: name, id: m.id!, name: m.name!, data: m.data as Received['data'], at: performance.now() });
        }),
      ),
    );
  }

  on(channel: string): Received[] {
    return this.got.filter((m) => m.channel === channel);
  }

  async until(n: number, timeoutMs = 10_000): Promise<Received[]> {
    await waitFor(() => this.got.length >= n, () => `${n} messages (have ${this.got.length})`, timeoutMs);
    return this.got;
  }

  close(): void {
    this.client.close();
  }
}

/** Polls until `cond` holds; for state that has no event to await. */
export async function waitFor(cond: () => boolean, what: () => string, timeoutMs = 10_000, everyMs = 5): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
