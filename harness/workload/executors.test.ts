import { describe, expect, it } from 'vitest';
import { arrivalsBy, ExecutorSchema, runExecutor, type Arrival } from './executors.ts';
import { MemoryRecorder } from './recorder.ts';

const quick = (): Arrival => ({ op: 'post', run: async () => {} });

describe('open-loop executors', () => {
  it('constant-arrival-rate starts rate x duration operations on schedule', async () => {
    const rec = new MemoryRecorder();
    const starts: number[] = [];
    const r = await runExecutor(
      { executor: 'constant-arrival-rate', rate: 200, durationMs: 1000 },
      { recorder: rec, vus: 1, next: () => ({ op: 'post', run: async () => void starts.push(performance.now()) }) },
    );
    expect(r.started).toBe(200);
    expect(r.dropped).toBe(0);
    // Open loop: arrivals are spread over the second, not bunched at the start.
    const spread = starts[starts.length - 1]! - starts[0]!;
    expect(spread).toBeGreaterThan(900);
  });

  it('does not wait for slow operations and counts what it could not start as dropped', async () => {
    const rec = new MemoryRecorder();
    const release: Array<() => void> = [];
    const r = await runExecutor(
      { executor: 'constant-arrival-rate', rate: 100, durationMs: 500, maxInFlight: 10 },
      {
        recorder: rec,
        vus: 1,
        next: () => ({
          op: 'edit',
          run: () =>
            new Promise<void>((resolve) => {
              release.push(resolve);
              if (release.length === 10) setTimeout(() => release.forEach((f) => f()), 600);
            }),
        }),
      },
    );
    expect(r.started).toBe(10);
    expect(r.dropped).toBe(40);
    const dropped = rec.events.filter((e) => e.type === 'dropped');
    expect(dropped).toHaveLength(40);
    expect(dropped[0]).toMatchObject({ op: 'edit' });
  });

  it('ramping-arrival-rate follows the integral of its stages', async () => {
    const cfg = ExecutorSchema.parse({
      executor: 'ramping-arrival-rate',
      startRate: 0,
      stages: [
        { target: 100, durationMs: 1000 },
        { target: 100, durationMs: 500 },
      ],
    });
    expect(arrivalsBy(cfg, 1000)).toBeCloseTo(50);
    expect(arrivalsBy(cfg, 1500)).toBeCloseTo(100);
    const r = await runExecutor(cfg, { recorder: new MemoryRecorder(), vus: 1, next: quick });
    expect(r.started).toBe(100);
  });
});

describe('per-vu-iterations', () => {
  it('runs each user its iterations one after another', async () => {
    const active = new Map<number, number>();
    let overlap = false;
    const r = await runExecutor(
      { executor: 'per-vu-iterations', iterations: 5, maxDurationMs: 5000 },
      {
        recorder: new MemoryRecorder(),
        vus: 3,
        next: (vu = 0) => ({
          op: 'post',
          run: async () => {
            if (active.get(vu)) overlap = true;
            active.set(vu, 1);
            await new Promise((res) => setImmediate(res));
            active.set(vu, 0);
          },
        }),
      },
    );
    expect(r.completed).toBe(15);
    expect(overlap).toBe(false);
  });
});
