/** Per-interval figures of a run, for the charts of report.html. */
import type { HistoryEvent } from '../history/types.ts';
import type { Sample } from '../checks/latency-samples.ts';
import { isWrite } from '../checks/model.ts';
import type { TimelinePoint } from './types.ts';

/** Buckets of one second, widened so that a long run keeps at most this many points. */
const MAX_POINTS = 600;

function percentileOf(sorted: number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function buildTimeline(history: readonly HistoryEvent[], e2e: readonly Sample[], endT: number): { bucketSeconds: number; points: TimelinePoint[] } {
  const bucketSeconds = Math.max(1, Math.ceil(endT / 1000 / MAX_POINTS));
  const width = bucketSeconds * 1000;
  const n = Math.max(1, Math.ceil(endT / width));
  const acc = Array.from({ length: n }, () => ({ ops: 0, deliveries: 0, errors: 0, dropped: 0, lat: [] as number[], loop: null as number | null, cpu: null as number | null }));
  const at = (t: number) => acc[Math.min(n - 1, Math.max(0, Math.floor(t / width)))]!;
  const seen = new Set<string>();
  for (const e of history) {
    switch (e.type) {
      case 'invoke': if (isWrite(e.op)) at(e.t).ops++; break;
      case 'receive': {
        const k = `${e.client}\u0000${e.eventId}`;
        if (!seen.has(k)) { seen.add(k); at(e.t).deliveries++; }
        break;
      }
      case 'fail': at(e.t).errors++; break;
      case 'dropped': at(e.t).dropped++; break;
      case 'health': {
        const b = at(e.t);
        b.loop = Math.max(b.loop ?? 0, e.eventLoopDelayP99Ms);
        b.cpu = Math.max(b.cpu ?? 0, e.cpuPercent);
        break;
      }
      default: break;
    }
  }
  for (const s of e2e) at(s.t).lat.push(s.ms);
  const r3 = (x: number) => Math.round(x * 1000) / 1000;
  const points = acc.map((b, i): TimelinePoint => {
    b.lat.sort((x, y) => x - y);
    const has = b.lat.length > 0;
    // The last bucket is cut short by the end of the run: rate it over the time it covers.
    const covered = Math.max(0.001, Math.min(width, endT - i * width) / 1000);
    return {
      t: i * bucketSeconds,
      opsPerSec: r3(b.ops / covered),
      deliveriesPerSec: r3(b.deliveries / covered),
      errors: b.errors,
      dropped: b.dropped,
      e2eP50: has ? r3(percentileOf(b.lat, 50)) : null,
      e2eP90: has ? r3(percentileOf(b.lat, 90)) : null,
      e2eP99: has ? r3(percentileOf(b.lat, 99)) : null,
      e2eMax: has ? r3(b.lat.at(-1)!) : null,
      eventLoopDelayP99Ms: b.loop,
      cpuPercent: b.cpu,
    };
  });
  return { bucketSeconds, points };
}
