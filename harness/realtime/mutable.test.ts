/** Ably's mutable messages (update, delete, append, get by serial, versions) through the real SDK, REST and realtime. */
import type * as Ably from 'ably';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StartedRealtime } from './index.ts';
import { Clients, collector, rejection, startTestService } from './testing.ts';

let svc: StartedRealtime;
let clients: Clients;
let rest: Ably.Rest;

beforeAll(async () => {
  ({ svc, clients } = await startTestService());
  rest = clients.rest();
});
afterAll(async () => {
  clients.closeAll();
  await svc.stop();
});

describe('mutable messages', () => {
  it('updates a message by serial: subscribers get the new version, getMessage returns it, versions list both', async () => {
    const ch = rest.channels.get('mutable:edit');
    const sub = await clients.connected();
    const got = await collector(sub.channels.get('mutable:edit'));
    const { serials } = await ch.publish('post', { text: 'helo' });
    const serial = serials[0]!;
    const original = await ch.getMessage(serial);
    expect(original.data).toEqual({ text: 'helo' });

    const { versionSerial } = await ch.updateMessage({ serial, data: { text: 'hello' } } as Ably.Message, { clientId: 'editor', description: 'typo', metadata: { reason: 'spelling' } });
    expect(versionSerial! > serial).toBe(true);
    const latest = await ch.getMessage(serial);
    expect(latest).toMatchObject({ serial, name: 'post', action: 'message.update', data: { text: 'hello' } });
    expect(latest.version).toMatchObject({ serial: versionSerial, clientId: 'editor', description: 'typo', metadata: { reason: 'spelling' } });
    expect(latest.version!.timestamp).toBeGreaterThanOrEqual(original.timestamp!);

    const [created, updated] = await got.until(2);
    expect(created).toMatchObject({ serial, action: 'message.create' });
    expect(updated).toMatchObject({ serial, action: 'message.update', name: 'post', data: { text: 'hello' } });
    const versions = await ch.getMessageVersions(serial);
    expect(versions.items.map((m) => m.action)).toEqual(['message.update', 'message.create']);
  });

  it('deletes and appends over realtime, acknowledged with the version serial', async () => {
    const c = await clients.connected({ clientId: 'author' });
    const ch = c.channels.get('mutable:stream');
    const got = await collector(ch);
    await ch.publish('tokens', 'Hel');
    const [first] = await got.until(1);
    const appended = await ch.appendMessage({ serial: first!.serial, data: 'lo' } as Ably.Message);
    expect(typeof appended.versionSerial).toBe('string');
    await got.until(2);
    // Subscribers get the fragment; the message itself now reads as the whole text, an update.
    expect(got.got[1]).toMatchObject({ action: 'message.append', data: 'lo', serial: first!.serial });
    expect(await clients.rest().channels.get('mutable:stream').getMessage(first!.serial!)).toMatchObject({ action: 'message.update', data: 'Hello' });
    // A later reader rewinding gets the whole text, as an update.
    const reader = await clients.connected();
    const rewound = await collector(reader.channels.get('mutable:stream', { params: { rewind: '1' } }));
    expect((await rewound.until(1))[0]).toMatchObject({ action: 'message.update', data: 'Hello', serial: first!.serial });
    await ch.deleteMessage({ serial: first!.serial, data: '' } as Ably.Message, { description: 'gone' });
    const [, , deleted] = await got.until(3);
    expect(deleted).toMatchObject({ action: 'message.delete', serial: first!.serial, version: { clientId: 'author', description: 'gone' } });
  });

  it('answers an unknown serial with 40400', async () => {
    const ch = rest.channels.get('mutable:none');
    await ch.publish('x', 'y');
    const err = await rejection(ch.getMessage('nope:000000000001:0'));
    expect(err.code).toBe(40400);
    expect(err.statusCode).toBe(404);
  });
});

describe('annotations', () => {
  it('delivers realtime and REST annotations to annotation subscribers, summarises them to subscribers, and lists them by page', async () => {
    const c = await clients.connected({ clientId: 'ann' });
    const ch = c.channels.get('mutable:annotated', { modes: ['PUBLISH', 'SUBSCRIBE', 'ANNOTATION_PUBLISH', 'ANNOTATION_SUBSCRIBE'] });
    const messages = await collector(ch);
    const annotations: Ably.Annotation[] = [];
    await ch.annotations.subscribe((a) => void annotations.push(a));
    await ch.publish('post', 'hi');
    const [message] = await messages.until(1);
    await ch.annotations.publish(message!, { type: 'reaction:distinct.v1', name: 'up' });
    await clients.rest({ clientId: 'bob' }).channels.get('mutable:annotated').annotations.publish(message!.serial!, { type: 'reaction:distinct.v1', name: 'up' });
    const summaries = await messages.until(3);
    expect(summaries.slice(1).map((m) => [m.action, m.serial])).toEqual([['message.summary', message!.serial], ['message.summary', message!.serial]]);
    expect((summaries[2]!.annotations as { summary: unknown }).summary).toMatchObject({ 'reaction:distinct.v1': { up: { total: 2, clientIds: ['ann', 'bob'] } } });
    expect(annotations.map((a) => [a.action, a.clientId, a.messageSerial])).toEqual([['annotation.create', 'ann', message!.serial], ['annotation.create', 'bob', message!.serial]]);
    expect(annotations[0]!.serial! > message!.serial! && annotations[1]!.serial! > annotations[0]!.serial!).toBe(true);
    const first = await ch.annotations.get(message!.serial!, { limit: 1 });
    const second = await first.next();
    expect([...first.items, ...second!.items].map((a) => a.clientId)).toEqual(['ann', 'bob']);
    expect(second!.hasNext()).toBe(false);
    const plain = await clients.connected({ clientId: 'nope' });
    const narrow = plain.channels.get('mutable:annotated', { modes: ['PUBLISH', 'SUBSCRIBE'] });
    await narrow.attach();
    const err = await rejection(narrow.annotations.publish(message!, { type: 'reaction:distinct.v1', name: 'down' }));
    expect(err.code).toBe(40165);
  });
});
