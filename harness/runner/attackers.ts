/**
 * The abuse scenario's honest load alone, and its runs with and without attackers side by side:
 * the issue's questions are ratios taken in one command (honest e2e p99 with attackers over
 * without; the realtime service's memory growth in each).
 */
import type { Report } from '../report/types.ts';
import type { ScenarioDefinition } from './scenario.ts';

export function withoutAttackers(sc: ScenarioDefinition): ScenarioDefinition {
  const { abuse: _attackers, ...honest } = sc;
  return { ...honest, name: `${sc.name}-no-attackers`, description: `${sc.description} (attackers left out)`, guarantee: "the honest users' checks all hold" };
}

/** What the two runs say about the attackers' cost to honest users. */
export function attackerCostLines(withAttackers: Report, without: Report): string[] {
  const p99 = (r: Report) => r.latency.e2e?.p99;
  const a = p99(withAttackers);
  const b = p99(without);
  const growth = (r: Report) => r.memory?.parts.find((p) => p.part === 'realtime')?.growthMiB;
  const fmt = (x: number | undefined, unit: string) => (x === undefined ? 'not measured' : `${x.toFixed(1)} ${unit}`);
  const lines = [
    `honest e2e p99: ${fmt(a, 'ms')} with attackers, ${fmt(b, 'ms')} without` + (a !== undefined && b !== undefined && b > 0 ? ` (ratio ${(a / b).toFixed(2)}; target < 2)` : ''),
    `realtime service RSS growth: ${fmt(growth(withAttackers), 'MiB')} with attackers, ${fmt(growth(without), 'MiB')} without (target < 100 MB)`,
  ];
  const wrong = (withAttackers.attacks ?? []).filter((r) => !r.asExpected).map((r) => r.attack);
  lines.push(withAttackers.attacks ? `attacks: ${withAttackers.attacks.length} classes, ${wrong.length ? `NOT refused as expected: ${wrong.join(', ')}` : 'each refused with its code'}` : 'attacks: none recorded');
  return lines;
}
