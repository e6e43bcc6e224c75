/** The queue mode against the real local Lambda endpoint, the realtime side driven through the hook's contract. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LambdaService, type StartedLambda } from '../../lambda/index.ts';
import { attachRules, parseRule, type Envelope, type RealtimeHook, type RuleInvocationRecord, type RuleMessage } from './index.ts';

class Hook implements RealtimeHook {
  private handlers: Array<{ re: RegExp; fn: (m: RuleMessage) => void }> = [];
  private serial = 0;
  onChannelMessage(re: RegExp, fn: (m: RuleMessage) => void) {
    const h = { re, fn };
    this.handlers.push(h);
    return () => void (this.handlers = this.handlers.filter((x) => x !== h));
  }
  publish(channel: string, id: string) {
    const m: RuleMessage = { channel, id, data: id, clientId: 'u1', connectionId: 'c1', name: 'n', timestamp: Date.now(), serial: `s${++this.serial}` };
    for (const h of this.handlers) if (h.re.test(channel)) h.fn(m);
  }
}

interface SqsRecord {
  body: string;
  eventSource: string;
  attributes: { MessageGroupId?: string; ApproximateReceiveCount: string };
}

let down = true;
const applied: Array<{ channel: string; ids: string[]; group?: string }> = [];
let lambda: StartedLambda;

beforeAll(async () => {
  lambda = await new LambdaService({
    functions: {
      writer: async (event: unknown) => {
        if (down) throw new Error('database unavailable');
        for (const r of (event as { Records: SqsRecord[] }).Records) {
          const env = JSON.parse(r.body) as Envelope;
          applied.push({ channel: env.channel, ids: env.messages.map((m) => m.id), ...(r.attributes.MessageGroupId ? { group: r.attributes.MessageGroupId } : {}) });
        }
        return { ok: true };
      },
      broken: async () => {
        throw new Error('always');
      },
    },
  }).start();
});

afterAll(async () => {
  await lambda?.stop();
});

const target = () => ({ endpoint: lambda.endpoint, region: lambda.region, credentials: lambda.credentials });

describe('queue mode (Ably -> SQS FIFO -> event-source mapping)', () => {
  it('keeps every envelope through a long outage and writes each channel in publish order, each once', async () => {
    const hook = new Hook();
    const rule = parseRule({ id: 'q', channelPattern: '^q:', functionName: 'writer', mode: 'queue', concurrency: 4, queue: { fifo: true, maxReceiveCount: 1000, visibilityTimeoutMs: 1000 }, timeScale: 0.002 });
    const rules = attachRules(hook, [rule], target());
    let failures = 0;
    const outageOver = new Promise<void>((resolve) =>
      rules.onInvocation((r: RuleInvocationRecord) => {
        // Far more failed receives than AWS's two asynchronous retries would allow.
        if (r.phase === 'finished' && r.outcome !== 'ok' && ++failures === 12) resolve();
      }),
    );
    for (let i = 1; i <= 5; i++) for (const ch of ['q:a', 'q:b']) hook.publish(ch, `${ch}-${i}`);
    await outageOver;
    down = false;
    await rules.drain();
    for (const ch of ['q:a', 'q:b']) {
      expect(applied.filter((a) => a.channel === ch).flatMap((a) => a.ids)).toEqual([1, 2, 3, 4, 5].map((i) => `${ch}-${i}`));
    }
    expect(applied.every((a) => a.group === a.channel)).toBe(true);
    expect(rules.stats().total).toMatchObject({ dropped: 0, queued: 0, inFlight: 0 });
    await rules.stop();
  });

  it('moves a message to the dead-letter queue after maxReceiveCount receives', async () => {
    const hook = new Hook();
    const rule = parseRule({ id: 'dlq', channelPattern: '^dlq:', functionName: 'broken', mode: 'queue', queue: { maxReceiveCount: 3, visibilityTimeoutMs: 1 } });
    const rules = attachRules(hook, [rule], target());
    const records: RuleInvocationRecord[] = [];
    rules.onInvocation((r) => records.push(r));
    hook.publish('dlq:x', 'poison');
    await rules.drain();
    expect(records.filter((r) => r.phase === 'started').map((r) => r.attempt)).toEqual([1, 2, 3]);
    expect(records.find((r) => r.phase === 'dropped')?.error).toMatch(/^moved to the dead-letter queue after 3 receives; last error: .*always/);
    expect(rules.stats().total).toMatchObject({ dropped: 1, invocations: 3, queued: 0 });
    await rules.stop();
  });
});
