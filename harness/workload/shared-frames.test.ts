/** The shared decoder: one decode per channel message, however many readers receive its text. */
import { describe, expect, it } from 'vitest';
import { ownDecoder } from '../../scenarios/k6/lib/client.ts';
import { Action, type InboundFrame } from '../../scenarios/k6/lib/protocol.ts';
import { SharedFrameDecoder } from './shared-frames.ts';

const change = (id: string, n: number) =>
  JSON.stringify({
    action: Action.MESSAGE,
    id: `conn:${n}`,
    channel: 'room:incoming',
    timestamp: 1_700_000_000_000 + n,
    messages: [{ name: 'INSERT', encoding: 'json', data: JSON.stringify({ table: 'chat_messages', type: 'INSERT', row: { id, text: `t${n}`, author: 'a', version: 1, deleted: false }, position: [n, 1] }) }],
  });
const asFrame = (f: ReturnType<SharedFrameDecoder['frame']>): InboundFrame => {
  if ('invalid' in f) throw new Error(f.invalid);
  return f;
};

describe('SharedFrameDecoder', () => {
  it('decodes a message once for every copy of its text, into the changes a reader decoding alone gets', () => {
    const d = new SharedFrameDecoder();
    const text = change('m1', 1);
    // Each reader's socket yields its own string of the same text.
    const a = asFrame(d.frame(text));
    const b = asFrame(d.frame(text.slice(0, 10) + text.slice(10)));
    expect(b).toBe(a);
    expect(d.changes(b)).toBe(d.changes(a));
    expect(d.changes(a)).toEqual(ownDecoder.changes(asFrame(ownDecoder.frame(text))));
  });

  it('hands out frozen changes, since every reader gets the same objects', () => {
    const d = new SharedFrameDecoder();
    const [c] = d.changes(asFrame(d.frame(change('m1', 1))));
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c!.row)).toBe(true);
    expect(Object.isFrozen(c!.position)).toBe(true);
  });

  it('remembers a bounded window of messages, and no frame that is one connection’s own', () => {
    const d = new SharedFrameDecoder(2);
    const first = asFrame(d.frame(change('m1', 1)));
    d.frame(change('m2', 2));
    d.frame(change('m3', 3));
    // m1 left the window: its text decodes again, to an equal but new frame.
    const again = asFrame(d.frame(change('m1', 1)));
    expect(again).not.toBe(first);
    expect(again).toEqual(first);
    const ack = JSON.stringify({ action: Action.ACK, msgSerial: 0, count: 1 });
    expect(d.frame(ack)).not.toBe(d.frame(ack));
    expect(d.frame('not json')).toHaveProperty('invalid');
  });
});
