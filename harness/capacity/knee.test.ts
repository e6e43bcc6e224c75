import { describe, expect, it } from 'vitest';
import { findKnee } from './knee.ts';
import { step } from './testing.ts';

/** Two cores, Lambda on four workers, the generator on one worker thread. */
const M = { cores: 2, lambdaWorkers: 4, generatorWorkers: 1 };

describe('step verdicts', () => {
  it('passes a step that held the SLO with nothing lost, failed or dropped', () => {
    expect(step(50)).toMatchObject({ verdict: 'pass', reasons: [] });
  });

  it('names every reason, the first deciding the verdict', () => {
    expect(step(50, { p99: 80 })).toMatchObject({ verdict: 'slo-broken', reasons: ['SLO e2e_latency p(99)<50 broken (80.0)'] });
    expect(step(50, { lost: 2, p99: 80 }).verdict).toBe('errors');
    expect(step(50, { lost: 2, p99: 80 }).reasons).toEqual(['operations 2 lost', 'SLO e2e_latency p(99)<50 broken (80.0)']);
    expect(step(50, { failed: 1 }).reasons).toEqual(['operations 1 failed']);
    expect(step(50, { checks: ['delivery'] }).verdict).toBe('check-failed');
    expect(step(50, { genSaturated: true }).reasons[0]).toMatch(/load generator saturated \(event-loop delay p99 80 ms, CPU 97%\)/);
  });
});

describe('the knee', () => {
  it('is the highest passing rate below the first failure, whatever order the steps ran in (bisection included)', () => {
    const steps = [step(25), step(50), step(75), step(100, { p99: 70 }), step(87.5, { p99: 55 }), step(81.3)];
    const k = findKnee(steps, 2, M);
    expect(k.status).toBe('found');
    expect(k.knee?.targetRate).toBe(81.3);
    expect(k.firstFailure?.targetRate).toBe(87.5);
  });

  it('does not count a lucky pass above a failure', () => {
    const k = findKnee([step(25), step(50, { p99: 60 }), step(75)], 2, M);
    expect(k.knee?.targetRate).toBe(25);
    expect(k.firstFailure?.targetRate).toBe(50);
  });

  it('is a lower bound when nothing failed, and absent when the first rate failed', () => {
    expect(findKnee([step(25), step(50)], 2, M)).toMatchObject({ status: 'lower-bound', knee: { targetRate: 50 }, firstFailure: null });
    expect(findKnee([step(25, { p99: 90 })], 2, M)).toMatchObject({ status: 'none', knee: null, firstFailure: { targetRate: 25 } });
  });

  it('leaves out a step that was repeated because only the generator failed', () => {
    const k = findKnee([step(25), { ...step(50, { genSaturated: true }), superseded: true }, step(50), step(75, { p99: 70 })], 2, M);
    expect(k).toMatchObject({ status: 'found', knee: { targetRate: 50 }, firstFailure: { targetRate: 75 } });
  });

  it('keeps users-per-room series apart', () => {
    const steps = [step(25, { users: 2 }), step(50, { users: 2, p99: 70 }), step(25, { users: 8 }), step(50, { users: 8 }), step(75, { users: 8, p99: 70 })];
    expect(findKnee(steps, 2, M).knee?.targetRate).toBe(25);
    expect(findKnee(steps, 8, M).knee?.targetRate).toBe(50);
  });
});
