/** report.md: the verdict and the tables, readable as a pull-request comment. */
import { causeLines, COMPARISON_AXIS_WORDS, detailsLine, floorLine, generatorCostLine, healthLine, STAGE_LABELS, validityWord, verdictLine } from './describe.ts';
import { markdownTable, ms, num } from '../lib/table.ts';
import type { Report } from './types.ts';
import { abuseMarkdown } from './abuse.ts';

export function toMarkdown(r: Report): string {
  const out: string[] = [];
  const icon = r.passed ? '✅' : '❌';
  out.push(`# ${icon} ${r.scenario}: ${r.passed ? 'passed' : 'failed'}`, '');
  out.push(verdictLine(r), '');
  for (const line of causeLines(r)) out.push(`**${line}**`, '');
  const seed = r.run.seed === null ? '' : `seed ${r.run.seed}, `;
  out.push(`${seed}${(r.run.durationMs / 1000).toFixed(1)} s${r.run.startedAt ? `, started ${r.run.startedAt}` : ''}. ${healthLine(r)}.`, '');
  const cost = generatorCostLine(r);
  if (cost) out.push(`${cost}.`, '');
  if (r.generatorSaturated) out.push('> **Warning:** the load generator was saturated; latency figures of this run are not trustworthy.', '');

  if (r.comparison) out.push(...comparisonSection(r), '');

  out.push('## Checks', '');
  out.push(
    markdownTable(
      ['check', 'result', 'failed at (ms)', 'details'],
      r.checks.map((c) => [c.name, `${c.valid === true ? '✅' : c.valid === false ? '❌' : '❔'} ${validityWord(c.valid)}`, c.failedAt === undefined ? '' : ms(c.failedAt), detailsLine(c.details)]),
    ),
    '',
  );

  out.push('## Thresholds', '');
  if (r.thresholds.length === 0) out.push('No thresholds were set.', '');
  else {
    out.push(
      markdownTable(
        ['metric', 'threshold', 'value', 'result'],
        r.thresholds.map((t) => [t.metric, `\`${t.expr}\``, t.value === null ? 'no data' : num(t.value), t.passed ? '✅ held' : '❌ failed']),
        ['left', 'left', 'right', 'left'],
      ),
      '',
    );
  }

  out.push('## Latency (ms)', '');
  out.push(
    markdownTable(
      ['stage', 'count', 'p50', 'p90', 'p99', 'p99.9', 'max'],
      Object.entries(r.latency).map(([stage, s]) => [STAGE_LABELS[stage] ?? stage, String(s.count), ms(s.p50), ms(s.p90), ms(s.p99), ms(s.p999), ms(s.max)]),
      ['left', 'right', 'right', 'right', 'right', 'right', 'right'],
    ),
    '',
  );
  const floor = floorLine(r);
  if (floor) out.push(`${floor[0]!.toUpperCase()}${floor.slice(1)}.`, '');

  out.push('## Counts and throughput', '');
  const c = r.counts;
  out.push(
    markdownTable(
      ['sent', 'committed', 'delivered', 'lost', 'duplicated', 'out of order', 'failed', 'rejected', 'dropped', 'ops/s', 'deliveries/s'],
      [[c.sent, c.committed, c.delivered, c.lost, c.duplicated, c.outOfOrder, c.failed, c.rejected, c.dropped, r.throughput.opsPerSec, r.throughput.deliveriesPerSec].map(num)],
      Array(11).fill('right'),
    ),
    '',
  );

  if (r.stackCost) {
    const sc = r.stackCost;
    out.push(`## Stack parts' CPU over the load (${(sc.windowMs / 1000).toFixed(1)} s, ${sc.changes} committed changes)`, '');
    out.push(
      markdownTable(
        ['part', 'CPU (ms)', '% of a core', 'µs per change'],
        sc.parts.map((p) => [p.part, String(p.cpuMs), p.cpuPercent.toFixed(1), p.usPerChange === null ? '-' : String(p.usPerChange)]),
        ['left', 'right', 'right', 'right'],
      ),
      '',
    );
  }

  if (r.integration) {
    const g = r.integration;
    out.push('## What the writer saw (integration)', '');
    out.push(
      markdownTable(
        ['messages', 'out of order', 'rate', 'max overtake (ms)', 'duplicate deliveries', 'edits before post', 'retries', 'dropped envelopes'],
        [[g.messages, g.outOfOrder, g.outOfOrderRate, g.maxOvertakeMs, g.duplicateDeliveries, g.editsBeforePost, g.retries, g.dropped].map(num)],
        Array(8).fill('right'),
      ),
      '',
    );
  }

  out.push(...abuseMarkdown(r.attacks, r.memory));

  if (r.faults.length) {
    out.push('## Faults', '');
    out.push(markdownTable(['fault', 'from (ms)', 'to (ms)', 'detail'], r.faults.map((f) => [f.name, ms(f.start), f.end === null ? 'end of run' : ms(f.end), f.detail ?? ''])), '');
  }

  out.push('## Environment', '');
  out.push('```json', JSON.stringify({ environment: r.environment, options: r.options }, null, 2), '```', '');
  return out.join('\n');
}


/** The comparison this run belongs to: the same seed under each mode, this run marked. */
function comparisonSection(r: Report): string[] {
  const c = r.comparison!;
  const seed = c.seed === null ? '' : ` with seed ${c.seed}`;
  return [
    `## Comparison of ${COMPARISON_AXIS_WORDS[c.axis]}${seed}`,
    '',
    markdownTable(['', ...c.runs.map((x) => x.label)], c.rows.map((row) => [row.measure, ...row.values])),
    '',
    ...c.runs.map((x) => `- ${x.label}: \`${x.dir}\` (${x.passed ? 'passed' : 'failed'})`),
  ];
}
