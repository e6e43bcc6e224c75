import { describe, expect, it } from 'vitest';
import { cloneRun } from '../history/simulate.ts';
import type { ReceiveEvent } from '../history/types.ts';
import { streamOrderChecker } from './stream-order.ts';
import { cleanRun } from './testing.ts';

const check = streamOrderChecker();

describe('stream-order', () => {
  it('passes a clean run', () => {
    const run = cleanRun();
    expect(check(run.history, run.final)).toMatchObject({ valid: true, details: { overtaken: 0 } });
  });

  it('catches version 2 arriving after version 3 even when the view ignored it', () => {
    const run = cloneRun(cleanRun());
    const at = (v: number) => run.history.findIndex((e) => e.type === 'receive' && e.client === 'a' && e.messageId === 'm1' && e.version === v);
    const i2 = at(2);
    const i3 = at(3);
    const v2 = run.history[i2] as ReceiveEvent;
    const v3 = run.history[i3] as ReceiveEvent;
    [v2.t, v3.t] = [v3.t, v2.t];
    run.history[i2] = v3;
    run.history[i3] = v2;
    v2.applied = false;
    const r = check(run.history, run.final);
    expect(r).toMatchObject({ valid: false, failedAt: v2.t, details: { overtaken: 1, messagesAffected: 1 } });
  });

  it('does not count a duplicate of an already received event as overtaken', () => {
    const run = cloneRun(cleanRun());
    const first = run.history.find((e): e is ReceiveEvent => e.type === 'receive' && e.client === 'a' && e.messageId === 'm1' && e.version === 1)!;
    run.history.splice(run.history.length - 1, 0, { ...first, t: run.history[run.history.length - 2]!.t + 1, applied: false });
    expect(check(run.history, run.final)).toMatchObject({ valid: true, details: { overtaken: 0 } });
  });
});
