/**
 * The rules engine against the real local Lambda endpoint. The realtime side is the hook's
 * contract (synchronous, per-channel publish order), driven here directly; the whole path
 * through the realtime service is covered in rules.e2e.test.ts.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LambdaService, type StartedLambda } from '../../lambda/index.ts';
import { summarizeDeliveries } from '../../runner/delivery-summary.ts';
import { attachRules, loadRules, parseRule, type Envelope, type RealtimeHook, type RuleInvocationRecord, type RuleMessage } from './index.ts';

class Hook implements RealtimeHook {
  private handlers: Array<{ re: RegExp; fn: (m: RuleMessage) => void }> = [];
  private serial = 0;
  onChannelMessage(re: RegExp, fn: (m: RuleMessage) => void) {
    const h = { re, fn };
    this.handlers.push(h);
    return () => void (this.handlers = this.handlers.filter((x) => x !== h));
  }
  publish(channel: string, id: string, data: unknown, extra: Partial<RuleMessage> = {}) {
    const m: RuleMessage = { channel, id, data, clientId: 'u1', connectionId: 'c1', name: 'n', timestamp: Date.now(), serial: `s${++this.serial}`, ...extra };
    for (const h of this.handlers) if (h.re.test(channel)) h.fn(m);
  }
}

const received: Record<string, Envelope[]> = { ordered: [], async: [], batch: [], envelope: [], coalesce: [] };

/** Holds the next invocation of `coalesce` at the function until released. */
const coalesceGate = {
  held: undefined as undefined | { arrived: () => void; wait: Promise<void> },
  next() {
    let arrived!: () => void;
    let release!: () => void;
    const reached = new Promise<void>((r) => (arrived = r));
    const wait = new Promise<void>((r) => (release = r));
    this.held = { arrived, wait };
    return { reached, release };
  },
};
let failNext = 0;
let lambda: StartedLambda;

beforeAll(async () => {
  const recorder = (key: string, opts: { jitter?: boolean; failures?: boolean } = {}) => async (event: unknown) => {
    if (opts.failures && failNext > 0) {
      failNext--;
      throw new Error('planned failure');
    }
    if (opts.jitter) await new Promise((r) => setTimeout(r, Math.random() * 20));
    received[key]!.push(event as Envelope);
    return { ok: true };
  };
  lambda = await new LambdaService({
    functions: {
      ordered: recorder('ordered'),
      async: recorder('async', { jitter: true, failures: true }),
      batch: recorder('batch'),
      envelope: recorder('envelope'),
      coalesce: async (event: unknown) => {
        const h = coalesceGate.held;
        coalesceGate.held = undefined;
        if (h) {
          h.arrived();
          await h.wait;
        }
        received.coalesce!.push(event as Envelope);
        return { ok: true };
      },
      broken: async () => {
        throw new Error('always');
      },
    },
    async: { timeScale: 1 / 600 },
  }).start();
});

afterAll(async () => {
  await lambda?.stop();
});

const target = () => ({ endpoint: lambda.endpoint, region: lambda.region, credentials: lambda.credentials });

describe('integration rules', () => {
  it('sends the envelope exactly as Ably does', async () => {
    const hook = new Hook();
    const rules = attachRules(hook, [parseRule({ id: 'r-env', channelPattern: '^env:', functionName: 'envelope', mode: 'ordered' })], target(), { appId: 'myapp' });
    hook.publish('env:a', 'm1', { text: 'hi' }, { timestamp: 1234 });
    hook.publish('env:a', 'm2', 'plain');
    hook.publish('env:a', 'm3', Buffer.from([1, 2, 3]));
    hook.publish('other', 'ignored', 'x');
    await rules.drain();
    await rules.stop();
    // m1 found the channel idle and went alone; m2 and m3 queued behind it and went together.
    expect(received.envelope!.map((e) => e.messages.map((m) => m.id))).toEqual([['m1'], ['m2', 'm3']]);
    expect(received.envelope![0]).toEqual({
      source: 'channel.message',
      appId: 'myapp',
      channel: 'env:a',
      site: 'local-1',
      ruleId: 'r-env',
      messages: [{ id: 'm1', clientId: 'u1', connectionId: 'c1', timestamp: 1234, name: 'n', data: '{"text":"hi"}', encoding: 'json' }],
    });
    expect(received.envelope![1]!.messages[0]).toMatchObject({ data: 'plain' });
    expect(received.envelope![1]!.messages[0]!.encoding).toBeUndefined();
    expect(received.envelope![1]!.messages[1]).toMatchObject({ data: 'AQID', encoding: 'base64' });
  });

  it('ordered mode keeps per-channel publish order through function failures', async () => {
    lambda.setFault('ordered', { errorRate: 0.3, seed: 7 });
    const hook = new Hook();
    const records: RuleInvocationRecord[] = [];
    const rules = attachRules(hook, [parseRule({ id: 'r-ord', channelPattern: '^ord:', functionName: 'ordered', mode: 'ordered', retry: { initialBackoffMs: 1, maxBackoffMs: 5 } })], target());
    rules.onInvocation((r) => records.push(r));
    const expected: Record<string, string[]> = { 'ord:a': [], 'ord:b': [] };
    for (let i = 0; i < 40; i++) {
      const ch = i % 2 ? 'ord:a' : 'ord:b';
      hook.publish(ch, `${ch}-${i}`, { i });
      expected[ch]!.push(`${ch}-${i}`);
    }
    await rules.drain();
    lambda.setFault('ordered', {});
    const stats = rules.stats().rules['r-ord']!;
    await rules.stop();
    for (const ch of Object.keys(expected)) {
      expect(received.ordered!.filter((e) => e.channel === ch).flatMap((e) => e.messages.map((m) => m.id))).toEqual(expected[ch]);
    }
    expect(stats.functionErrors).toBeGreaterThan(0);
    expect(stats.retries).toBe(stats.functionErrors);
    expect(stats).toMatchObject({ matched: 40, dropped: 0, inFlight: 0, queued: 0 });
    const s = summarizeDeliveries(records);
    expect(s).toMatchObject({ messages: 40, delivered: 40, outOfOrder: 0, duplicateDeliveries: 0 });
  });

  it('ordered mode invokes an idle channel at once and coalesces only what queued behind a running invocation', async () => {
    const hook = new Hook();
    const records: RuleInvocationRecord[] = [];
    const rules = attachRules(hook, [parseRule({ id: 'r-coal', channelPattern: '^coal:', functionName: 'coalesce', mode: 'ordered' })], target());
    rules.onInvocation((r) => records.push(r));
    const first = coalesceGate.next();
    hook.publish('coal:a', 'c-0', { i: 0 });
    // The first message is already at the function, alone, while the rest are published.
    await first.reached;
    for (let i = 1; i < 6; i++) hook.publish('coal:a', `c-${i}`, { i });
    first.release();
    await rules.drain();
    hook.publish('coal:a', 'c-6', { i: 6 });
    await rules.drain();
    await rules.stop();
    expect(received.coalesce!.map((e) => e.messages.map((m) => m.id))).toEqual([['c-0'], ['c-1', 'c-2', 'c-3', 'c-4', 'c-5'], ['c-6']]);
    expect(summarizeDeliveries(records)).toMatchObject({ messages: 7, delivered: 7, outOfOrder: 0, duplicateDeliveries: 0 });
  });

  it('ably-lambda mode runs envelopes in parallel, duplicates some, and retries on the scaled AWS schedule', async () => {
    const hook = new Hook();
    const records: RuleInvocationRecord[] = [];
    const rules = attachRules(
      hook,
      [parseRule({ id: 'r-async', channelPattern: '^async:', functionName: 'async', concurrency: 8, duplicateRate: 0.3, seed: 3, timeScale: 1 / 600 })],
      target(),
    );
    rules.onInvocation((r) => records.push(r));
    failNext = 3;
    for (let i = 0; i < 60; i++) hook.publish('async:a', `a-${i}`, { i });
    await rules.drain();
    const stats = rules.stats().rules['r-async']!;
    await rules.stop();
    const s = summarizeDeliveries(records);
    expect(s.messages).toBe(60);
    expect(s.delivered).toBe(60);
    expect(stats.functionErrors).toBe(3);
    expect(stats.retries).toBe(3);
    expect(stats.duplicates).toBeGreaterThan(5);
    expect(s.duplicateDeliveries).toBe(stats.duplicates);
    // Parallel invocations with jittered handlers and retries: order is not kept.
    expect(s.outOfOrder).toBeGreaterThan(0);
    const retried = records.filter((r) => r.phase === 'started' && r.attempt === 2);
    expect(retried).toHaveLength(3);
    for (const r of retried) {
      const failedAt = records.find((x) => x.invocationId === r.invocationId && x.attempt === 1 && x.phase === 'finished')!.at;
      expect(r.at - failedAt).toBeGreaterThanOrEqual(95); // 60 s / 600
    }
  });

  it('late redelivery postpones some envelopes and repeats others, after the scaled delay', async () => {
    const hook = new Hook();
    const records: RuleInvocationRecord[] = [];
    const rules = attachRules(
      hook,
      [parseRule({ id: 'r-late', channelPattern: '^late:', functionName: 'envelope', seed: 5, timeScale: 1 / 600, redelivery: { delayRate: 0.3, duplicateRate: 0.3, delayMs: { min: 60_000, max: 120_000 } } })],
      target(),
    );
    rules.onInvocation((r) => records.push(r));
    const t0 = Date.now();
    for (let i = 0; i < 40; i++) hook.publish('late:a', `l-${i}`, { i });
    await rules.drain();
    await rules.stop();
    const s = summarizeDeliveries(records);
    expect(s.delivered).toBe(40);
    const starts = records.filter((r) => r.phase === 'started');
    const late = starts.filter((r) => r.at - t0 >= 95); // 60 s / 600
    const lateDuplicates = late.filter((r) => r.duplicate);
    const lateOriginals = late.filter((r) => !r.duplicate);
    expect(lateDuplicates.length).toBeGreaterThan(3);
    expect(lateOriginals.length).toBeGreaterThan(3);
    // A postponed envelope starts after envelopes published after it.
    const order = starts.filter((r) => !r.duplicate && r.attempt === 1).map((r) => Number(r.messageIds[0]!.slice(2)));
    expect(order.some((n, i) => i > 0 && n < order[i - 1]!)).toBe(true);
  });

  it("the nemesis's redelivery holds while set, on ably-lambda rules only, and its delays are not time-scaled", async () => {
    const hook = new Hook();
    const records: RuleInvocationRecord[] = [];
    const rules = attachRules(
      hook,
      [
        parseRule({ id: 'r-nem', channelPattern: '^nem:', functionName: 'envelope', seed: 9, timeScale: 1 / 600 }),
        parseRule({ id: 'r-nem-ordered', channelPattern: '^nemo:', functionName: 'ordered', mode: 'ordered' }),
      ],
      target(),
    );
    rules.onInvocation((r) => records.push(r));
    // 300 ms real: scaled by the rule's 1/600 it would be half a millisecond, too short to overtake anything.
    expect(rules.setRedelivery({ delayRate: 0.3, duplicateRate: 0.3, delayMs: { min: 200, max: 300 } })).toEqual(['r-nem']);
    for (let i = 0; i < 40; i++) hook.publish('nem:a', `a-${i}`, { i });
    await rules.drain();
    expect(rules.setRedelivery(undefined)).toEqual(['r-nem']);
    for (let i = 0; i < 40; i++) hook.publish('nem:a', `b-${i}`, { i });
    await rules.drain();
    await rules.stop();
    expect(summarizeDeliveries(records).delivered).toBe(80);
    const starts = (tag: string) => records.filter((r) => r.phase === 'started' && r.messageIds[0]!.startsWith(tag));
    const order = (tag: string) => starts(tag).filter((r) => !r.duplicate).map((r) => Number(r.messageIds[0]!.slice(2)));
    // While set: duplicates (the rule has none of its own) and postponed envelopes overtaken by later ones.
    expect(starts('a-').filter((r) => r.duplicate).length).toBeGreaterThan(3);
    expect(order('a-').some((n, i) => i > 0 && n < order('a-')[i - 1]!)).toBe(true);
    // Once cleared: neither.
    expect(starts('b-').filter((r) => r.duplicate)).toEqual([]);
    expect(order('b-')).toEqual([...order('b-')].sort((x, y) => x - y));
  });

  it('ably-lambda mode gives up after AWS’s two retries and counts the drop', async () => {
    const hook = new Hook();
    const rules = attachRules(hook, [parseRule({ id: 'r-broken', channelPattern: '^b:', functionName: 'broken', timeScale: 1 / 6000 })], target());
    hook.publish('b:x', 'doomed', {});
    await rules.drain();
    expect(rules.stats().rules['r-broken']).toMatchObject({ invocations: 3, functionErrors: 3, retries: 2, dropped: 1 });
    await rules.stop();
  });

  it('with invocationType Event hands envelopes to Lambda’s own async queue, which retries them', async () => {
    const hook = new Hook();
    const before = lambda.stats('async');
    const rules = attachRules(hook, [parseRule({ id: 'r-event', channelPattern: '^ev:', functionName: 'async', invocationType: 'Event' })], target());
    failNext = 1;
    const seen = received.async!.length;
    for (let i = 0; i < 5; i++) hook.publish('ev:a', `ev-${i}`, { i });
    await rules.drain();
    // Every envelope was accepted (202); the failure is invisible here and retried by Lambda.
    expect(rules.stats().rules['r-event']).toMatchObject({ envelopes: 5, succeeded: 5, functionErrors: 0 });
    await lambda.drain();
    await rules.stop();
    expect(lambda.stats('async').asyncRetries - before.asyncRetries).toBe(1);
    expect(received.async!.slice(seen).flatMap((e) => e.messages.map((m) => m.id)).sort()).toEqual(['ev-0', 'ev-1', 'ev-2', 'ev-3', 'ev-4']);
  });

  it('batches a channel’s messages into envelopes of at most maxMessages', async () => {
    const hook = new Hook();
    const rules = attachRules(
      hook,
      [parseRule({ id: 'r-batch', channelPattern: '^batch:', functionName: 'batch', mode: 'ordered', batching: { enabled: true, maxMessages: 10, maxDelayMs: 20 } })],
      target(),
    );
    for (let i = 0; i < 25; i++) hook.publish('batch:a', `b-${i}`, { i });
    await rules.drain();
    await rules.stop();
    expect(received.batch!.map((e) => e.messages.length)).toEqual([10, 10, 5]);
    expect(received.batch!.flatMap((e) => e.messages.map((m) => m.id))).toEqual(Array.from({ length: 25 }, (_, i) => `b-${i}`));
  });

  it('ships loadable rules files for the chat (faithful and ordered)', () => {
    const here = new URL('.', import.meta.url).pathname;
    expect(loadRules(join(here, 'chat-rules.json'))[0]).toMatchObject({ functionName: 'chat-writer', mode: 'ably-lambda' });
    expect(loadRules(join(here, 'chat-rules.ordered.json'))[0]).toMatchObject({ functionName: 'chat-writer', mode: 'ordered' });
    expect(loadRules(join(here, 'chat-rules.late-redelivery.json'))[0]).toMatchObject({ functionName: 'chat-writer', redelivery: { delayRate: 0.15, duplicateRate: 0.3 } });
    expect(new RegExp(loadRules(join(here, 'chat-rules.json'))[0]!.channelPattern).test('chat:lobby:outgoing')).toBe(true);
    expect(new RegExp(loadRules(join(here, 'chat-rules.json'))[0]!.channelPattern).test('chat:lobby:incoming')).toBe(false);
  });

  it('validates a rules file, naming the field at fault', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rules-'));
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify({ rules: [{ id: 'chat', channelPattern: '^chat:.*:outgoing$', functionName: 'chat-writer' }] }));
    expect(loadRules(good)[0]).toMatchObject({ id: 'chat', mode: 'ably-lambda', concurrency: 10, duplicateRate: 0, timeScale: 1, retry: { maxRetries: 2, delaysMs: [60_000, 120_000] } });
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ rules: [{ id: 'chat', channelPattern: '^chat', functionName: 'f', mode: 'fifo' }] }));
    expect(() => loadRules(bad)).toThrow(/rules\[0\]\.mode/);
    writeFileSync(bad, JSON.stringify([{ id: 'chat', channelPattern: '(', functionName: 'f' }]));
    expect(() => loadRules(bad)).toThrow(/channelPattern: expected a valid regular expression/);
    writeFileSync(bad, JSON.stringify([{ id: 'chat', channelPattern: 'x', functionName: 'f', duplicateRate: 1.5 }]));
    expect(() => loadRules(bad)).toThrow(/duplicateRate/);
  });
});
