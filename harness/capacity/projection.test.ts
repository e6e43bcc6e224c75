import { describe, expect, it } from 'vitest';
import { coefficients, humanCount, project, SECONDS_PER_MONTH } from './projection.ts';
import type { StepResult } from './types.ts';

function measured(traffic: StepResult['traffic'], counts: Partial<StepResult['counts']> = {}): StepResult {
  return {
    counts: { sent: 100, committed: 98, delivered: 392, lost: 0, failed: 0, dropped: 2, rejected: 1, ...counts },
    traffic,
  } as StepResult;
}

describe('projection coefficients', () => {
  it('come from what the realtime service and the Lambda endpoint counted during the step', () => {
    // 100 writes in a room of 2 writers + 2 readers: 100 client publishes + 98 connector publishes in,
    // 98 changes x 4 subscribers out, 102 invocations (2 duplicates).
    const k = coefficients(measured({ realtimeIn: 198, realtimeOut: 392, lambdaInvocations: 102 }), 4);
    expect(k).toEqual({ publishesPerOp: 1.98, deliveriesPerOpPerSubscriber: 0.98, lambdaPerOp: 1.02, dbWritesPerOp: 0.99, notifiesPerOp: 0.98, measured: true });
  });

  it('are modelled from the database counts when the counters are missing, and say so', () => {
    const k = coefficients(measured({ realtimeIn: null, realtimeOut: null, lambdaInvocations: null }), 4);
    expect(k).toEqual({ publishesPerOp: 1.98, deliveriesPerOpPerSubscriber: 0.98, lambdaPerOp: 1, dbWritesPerOp: 0.99, notifiesPerOp: 0.98, measured: false });
  });
});

describe('projection to a deployment', () => {
  it('scales per second and per 30-day month: publishes plus one delivery per subscriber', () => {
    const k = { publishesPerOp: 2, deliveriesPerOpPerSubscriber: 1, lambdaPerOp: 1.02, dbWritesPerOp: 1, notifiesPerOp: 1, measured: true };
    const row = project('target', k, { ratePerRoom: 0.5, rooms: 1000, writersPerRoom: 10, readersPerRoom: 40 });
    expect(row.perSecond).toEqual({ publishes: 1000, deliveries: 25_000, realtimeMessages: 26_000, lambdaInvocations: 510, dbWrites: 500, notifies: 500 });
    expect(row.perMonth.realtimeMessages).toBe(26_000 * SECONDS_PER_MONTH);
    expect(row.perMonth.lambdaInvocations).toBeCloseTo(510 * 2_592_000, 3);
    expect(row.perMonth.dbWrites).toBe(500 * 2_592_000);
    expect(row).toMatchObject({ label: 'target', ratePerRoom: 0.5, rooms: 1000, writersPerRoom: 10, readersPerRoom: 40 });
  });

  it('prints volumes with three significant digits and a unit', () => {
    expect(humanCount(67_392_000_000)).toBe('67.4 G');
    expect(humanCount(1_234_567)).toBe('1.23 M');
    expect(humanCount(999)).toBe('999');
    expect(humanCount(2.5)).toBe('2.50');
    expect(humanCount(1.3e12)).toBe('1.30 T');
  });
});
