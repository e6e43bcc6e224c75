import { describe, expect, it } from 'vitest';
import { FairQueue } from './fair-queue.ts';

describe('FairQueue', () => {
  it('serves channels in turn, each in its own order, so a flood waits behind itself', () => {
    const q = new FairQueue<{ channel: string; n: number }>();
    for (let n = 0; n < 1000; n++) q.push({ channel: 'flood', n });
    q.push({ channel: 'quiet', n: 0 });
    q.push({ channel: 'other', n: 0 });
    q.push({ channel: 'quiet', n: 1 });
    const first = Array.from({ length: 5 }, () => q.shift()!);
    expect(first.map((j) => `${j.channel}${j.n}`)).toEqual(['flood0', 'quiet0', 'other0', 'flood1', 'quiet1']);
    const rest: number[] = [];
    while (q.length > 0) rest.push(q.shift()!.n);
    expect(rest).toEqual(Array.from({ length: 998 }, (_, i) => i + 2));
    expect(q.shift()).toBeUndefined();
  });

  it('keyed by publisher, serves a client flooding two channels as one turn among the others', () => {
    const q = new FairQueue<{ channel: string; client: string; n: number }>((j) => j.client);
    for (let n = 0; n < 100; n++) q.push({ channel: `flood-${n % 2}`, client: 'mallory', n });
    q.push({ channel: 'room', client: 'alice', n: 0 });
    q.push({ channel: 'room', client: 'bob', n: 0 });
    q.push({ channel: 'room', client: 'alice', n: 1 });
    const first = Array.from({ length: 6 }, () => q.shift()!);
    expect(first.map((j) => `${j.client}${j.n}`)).toEqual(['mallory0', 'alice0', 'bob0', 'mallory1', 'alice1', 'mallory2']);
    expect(q.length).toBe(97);
  });
});
