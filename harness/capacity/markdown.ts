/** capacity.md and the terminal summary table. */
import { markdownTable, textTable, type Align } from '../lib/table.ts';
import { GROWTH_HEADER, growthRows, headline, PROJECTION_HEADER, projectionRow, saturationLine, settingsLine, STEP_HEADER, stepRow } from './describe.ts';
import type { CapacityResult } from './run.ts';

function stepAlign(n: number): Align[] {
  return Array.from({ length: n }, (_, i) => (i === n - 1 ? 'left' : 'right'));
}

export function capacityMarkdown(r: CapacityResult): string {
  const out: string[] = [];
  out.push(`# Capacity: ${r.scenario}`, '');
  for (const line of headline(r)) out.push(line.startsWith('  ') ? `  - ${line.trim()}` : `- **${line}**`);
  out.push('', settingsLine(r) + '.', '');
  out.push('## Steps', '');
  const header = STEP_HEADER(r.parts);
  out.push(markdownTable(header, r.steps.map((s) => stepRow(s, r.parts)), stepAlign(header.length)), '');
  out.push('CPU is the average over the step\'s load window in percent of one core; RSS the peak. Each step\'s run directory holds its report.html.', '');
  for (const k of r.knees) {
    const s = k.saturation;
    if (!s) continue;
    out.push(`## What saturated (users/room ${k.usersPerRoom})`, '', saturationLine(k), '');
    out.push(markdownTable(['part', 'utilisation of its capacity', 'basis'], s.ranking.map((x) => [x.part, `${(x.utilization * 100).toFixed(0)}%`, x.basis]), ['left', 'right', 'left']), '');
    if (s.stageGrowth.length) {
      const g = s.stageGrowth[0]!;
      out.push(`Stage p99 at the last good step (${g.fromRate} ops/s) and the first bad one (${g.toRate} ops/s):`, '');
      out.push(markdownTable(GROWTH_HEADER, growthRows(s), ['left', 'left', 'right', 'right', 'right']), '');
    }
  }
  out.push('## Projection', '');
  if (r.projections.length) {
    out.push(markdownTable(PROJECTION_HEADER, r.projections.map(projectionRow), ['left', ...Array<Align>(PROJECTION_HEADER.length - 1).fill('right')]), '');
    if (r.projectionBasis) out.push(`Per-operation figures from step ${r.projectionBasis.step} (${r.projectionBasis.measured ? 'measured on the realtime service and the Lambda endpoint' : 'modelled'}).`, '');
  } else out.push('No step ran: nothing to project.', '');
  out.push('## Notes', '', ...r.notes.map((n) => `- ${n}`), '');
  return out.join('\n');
}

export function capacitySummary(r: CapacityResult): string {
  const header = STEP_HEADER(r.parts);
  const lines = [textTable(header, r.steps.map((s) => stepRow(s, r.parts)), stepAlign(header.length)), ''];
  if (r.projections.length) lines.push(textTable(PROJECTION_HEADER, r.projections.map(projectionRow), ['left', ...Array<Align>(PROJECTION_HEADER.length - 1).fill('right')]), '');
  lines.push(...headline(r));
  return lines.join('\n');
}
