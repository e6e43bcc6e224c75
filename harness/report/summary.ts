/** The summary table printed at the end of a run: plain text, aligned columns. */
import { causeLines, detailsLine, floorLine, generatorCostLine, healthLine, validityWord, verdictLine } from './describe.ts';
import { ms, num, textTable } from '../lib/table.ts';
import type { Report } from './types.ts';
import { abuseSummary } from './abuse.ts';

export function formatSummary(r: Report, opts: { runDir?: string } = {}): string {
  const out: string[] = [];
  out.push(`${r.scenario}: ${verdictLine(r)}`, '');
  for (const line of causeLines(r)) out.push(line, '');
  out.push(textTable(['check', 'result', 'failed at', 'details'], r.checks.map((c) => [c.name, validityWord(c.valid), c.failedAt === undefined ? '' : `${ms(c.failedAt)} ms`, detailsLine(c.details, 100)])), '');
  if (r.thresholds.length) {
    out.push(
      textTable(
        ['threshold', 'value', 'result'],
        r.thresholds.map((t) => [`${t.metric} ${t.expr}`, t.value === null ? 'no data' : num(t.value), t.passed ? 'held' : 'FAILED']),
        ['left', 'right', 'left'],
      ),
      '',
    );
  }
  out.push(
    textTable(
      ['latency (ms)', 'count', 'p50', 'p90', 'p99', 'p99.9', 'max'],
      Object.entries(r.latency).map(([stage, s]) => [stage, String(s.count), ms(s.p50), ms(s.p90), ms(s.p99), ms(s.p999), ms(s.max)]),
      ['left', 'right', 'right', 'right', 'right', 'right', 'right'],
    ),
    '',
  );
  const floor = floorLine(r);
  if (floor) out.push(floor, '');
  out.push(...abuseSummary(r.attacks, r.memory));
  const c = r.counts;
  out.push(
    `sent ${c.sent}  committed ${c.committed}  delivered ${c.delivered}  lost ${c.lost}  duplicated ${c.duplicated}  out of order ${c.outOfOrder}  failed ${c.failed}  rejected ${c.rejected}  dropped ${c.dropped}`,
    `throughput ${num(r.throughput.opsPerSec)} ops/s, ${num(r.throughput.deliveriesPerSec)} deliveries/s`,
    healthLine(r),
  );
  const cost = generatorCostLine(r);
  if (cost) out.push(cost);
  if (r.stackCost) out.push(`stack parts' CPU per committed change: ${r.stackCost.parts.map((p) => `${p.part} ${p.usPerChange ?? '-'} µs`).join(', ')}`);
  if (opts.runDir) out.push(`run directory: ${opts.runDir}`);
  return out.join('\n');
}
