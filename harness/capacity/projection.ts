/**
 * From what a step measured to what a real deployment would see. Per write operation (post,
 * edit or delete; the scenario's typing share rides along) the step measured how many realtime
 * messages went in and out, how many Lambda invocations and database changes followed; scaled to
 * a target (rate per room, rooms, readers) these give the monthly volumes to size Ably, Lambda
 * and RDS. Ably counts one inbound message per publish and one outbound per delivery.
 */
import type { ProjectionRow, StepResult } from './types.ts';

export const SECONDS_PER_MONTH = 30 * 24 * 3600;

export interface Coefficients {
  /** Realtime publishes (clients' and the connector's) per write operation. */
  publishesPerOp: number;
  /** Deliveries per write operation per subscriber in the room. */
  deliveriesPerOpPerSubscriber: number;
  lambdaPerOp: number;
  /** chat-writer changes (committed versions and recorded rejections) per write operation. */
  dbWritesPerOp: number;
  /** Committed row changes per write operation: one trigger NOTIFY each. */
  notifiesPerOp: number;
  /** Whether the realtime and Lambda figures were measured (true) or modelled from the database counts. */
  measured: boolean;
}

export function coefficients(step: StepResult, subscribersPerRoom: number): Coefficients {
  const ops = Math.max(1, step.counts.sent);
  const changes = step.counts.committed / ops;
  const t = step.traffic;
  const measured = t.realtimeIn !== null && t.realtimeOut !== null && t.lambdaInvocations !== null;
  return {
    // Without the service's counters: one client publish and one connector publish per change.
    publishesPerOp: t.realtimeIn !== null ? t.realtimeIn / ops : 1 + changes,
    deliveriesPerOpPerSubscriber: t.realtimeOut !== null ? t.realtimeOut / ops / Math.max(1, subscribersPerRoom) : changes,
    lambdaPerOp: t.lambdaInvocations !== null ? t.lambdaInvocations / ops : 1,
    dbWritesPerOp: (step.counts.committed + step.counts.rejected) / ops,
    notifiesPerOp: changes,
    measured,
  };
}

export function project(label: string, k: Coefficients, t: { ratePerRoom: number; rooms: number; writersPerRoom: number; readersPerRoom: number }): ProjectionRow {
  const ops = t.ratePerRoom * t.rooms;
  const subscribers = t.writersPerRoom + t.readersPerRoom;
  const publishes = ops * k.publishesPerOp;
  const deliveries = ops * k.deliveriesPerOpPerSubscriber * subscribers;
  const perSecond = {
    publishes,
    deliveries,
    realtimeMessages: publishes + deliveries,
    lambdaInvocations: ops * k.lambdaPerOp,
    dbWrites: ops * k.dbWritesPerOp,
    notifies: ops * k.notifiesPerOp,
  };
  return {
    label,
    ...t,
    perSecond,
    perMonth: {
      realtimeMessages: perSecond.realtimeMessages * SECONDS_PER_MONTH,
      lambdaInvocations: perSecond.lambdaInvocations * SECONDS_PER_MONTH,
      dbWrites: perSecond.dbWrites * SECONDS_PER_MONTH,
    },
  };
}

/** 1234567 -> "1.23 M" (volumes span many orders of magnitude). */
export function humanCount(x: number): string {
  const units: [number, string][] = [[1e12, ' T'], [1e9, ' G'], [1e6, ' M'], [1e3, ' k']];
  for (const [v, u] of units) if (Math.abs(x) >= v) return `${(x / v).toPrecision(3)}${u}`;
  return x >= 100 ? x.toFixed(0) : x.toPrecision(3);
}
