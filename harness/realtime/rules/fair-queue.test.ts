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
});
