import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createTyping } from './typing.ts';

describe('typing indicator state', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function setup() {
    const sent: boolean[] = [];
    const typing = createTyping({ publish: (d) => (sent.push(d.typing), Promise.resolve()), self: () => 'me' });
    return { typing, sent };
  }

  it('announces typing at most every two seconds, and stopping once', () => {
    const { typing, sent } = setup();
    typing.typed();
    typing.typed();
    vi.advanceTimersByTime(1_999);
    typing.typed();
    expect(sent).toEqual([true]);
    vi.advanceTimersByTime(1);
    typing.typed();
    expect(sent).toEqual([true, true]);
    typing.stopped();
    typing.stopped();
    expect(sent).toEqual([true, true, false]);
  });

  it('shows others typing until they stop or go quiet, never the user itself', () => {
    const { typing } = setup();
    typing.received('me', { typing: true });
    typing.received('zoe', { typing: true });
    typing.received('bob', { typing: true });
    expect(typing.names.value).toEqual(['bob', 'zoe']);
    typing.received('zoe', { typing: false });
    expect(typing.names.value).toEqual(['bob']);
    vi.advanceTimersByTime(3_999);
    typing.received('ann', { typing: true });
    expect(typing.names.value).toEqual(['ann', 'bob']);
    vi.advanceTimersByTime(1);
    expect(typing.names.value).toEqual(['ann']);
    typing.received('ann', 'garbage');
    expect(typing.names.value).toEqual([]);
  });
});
