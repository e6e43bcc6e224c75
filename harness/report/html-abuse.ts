/**
 * The abuse scenario's sections of report.html: the same attack table and memory figures as
 * report.md (harness/report/abuse.ts builds both), so a reader of either page sees one verdict.
 */
import { attackTable, REALTIME, thin, type AttackRow, type MemorySummary } from './abuse.ts';

type Escape = (s: string) => string;
type Table = (header: string[], rows: string[][], numeric?: number[]) => string;

const okBadge = (ok: boolean, esc: Escape, text: string) => `<span class="badge ${ok ? 'ok' : 'bad'}">${esc(text)}</span>`;

export function abuseHtml(attacks: readonly AttackRow[] | undefined, memory: MemorySummary | undefined, esc: Escape, table: Table): string {
  const out: string[] = [];
  if (attacks) {
    const t = attackTable(attacks);
    // The result column carries a badge; every other cell is text from the history.
    const rows = t.body.map((cells, i) => cells.map((c, k) => (k === cells.length - 1 ? okBadge(attacks[i]!.asExpected, esc, c) : esc(c))));
    out.push(
      '<h2 id="attacks">Attacks</h2>',
      '<p>Each class of attack, how often it was tried, and how the stack answered (Ably error codes, AWS error types, WebSocket close codes). "Allowed by the limit" is what a limit lets through (a flood\'s first messages of each second); an unexpected success is what it should have refused.</p>',
      table(t.header, rows, [1, 2, 4, 5]),
      `<ul>${attacks.map((a) => `<li><code>${esc(a.attack)}</code>: ${esc(a.description)} (expected ${esc(a.expectedCodes.join(' or '))})</li>`).join('')}</ul>`,
    );
  }
  if (memory) {
    out.push(
      '<h2 id="memory">Memory (RSS of each stack process, MiB)</h2>',
      table(['part', 'at start', 'max', 'at end', 'growth'], memory.parts.map((p) => [esc(p.part), String(p.startMiB), String(p.maxMiB), String(p.endMiB), String(p.growthMiB)]), [1, 2, 3, 4]),
    );
    const rows = thin(memory.timeline, 16).filter((s) => s.rssMiB[REALTIME] !== undefined);
    if (rows.length) {
      out.push(
        `<p>The realtime service over the run (${memory.samples} samples, about one a second):</p>`,
        table(['t (s)', 'realtime RSS (MiB)'], rows.map((s) => [s.t.toFixed(1), String(s.rssMiB[REALTIME])]), [0, 1]),
      );
    }
  }
  return out.length ? `${out.join('\n')}\n` : '';
}
