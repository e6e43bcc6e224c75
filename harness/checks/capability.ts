/**
 * capability: every probe of a client's token got the answer its capability should give: what a
 * user may do (publish on outgoing and typing, subscribe to incoming and typing) succeeds, and
 * the rest (publishing on incoming, other rooms' channels when restricted) is refused.
 * A run without probes has nothing to contradict it and is valid, with `probes: 0` in details.
 */
import type { FinalState, HistoryEvent, ProbeEvent } from '../history/types.ts';
import { examples } from './model.ts';

export function capabilityChecker() {
  return (history: readonly HistoryEvent[], _final: FinalState) => {
    const probes = history.filter((e): e is ProbeEvent => e.type === 'probe');
    const wrong = probes.filter((p) => p.outcome !== p.expected).sort((a, b) => a.t - b.t);
    const details: Record<string, unknown> = {
      probes: probes.length,
      wrong: wrong.length,
      refusedAsExpected: probes.filter((p) => p.expected === 'refused' && p.outcome === 'refused').length,
    };
    // Per kind of attempt: how often tried, how often answered as expected, and the answers given.
    const byAction: Record<string, { tried: number; asExpected: number; answers: string[] }> = {};
    for (const p of probes) {
      const a = (byAction[p.action] ??= { tried: 0, asExpected: 0, answers: [] });
      a.tried++;
      if (p.outcome === p.expected) a.asExpected++;
      const answer = p.error ?? p.outcome;
      if (!a.answers.includes(answer) && a.answers.length < 3) a.answers.push(answer);
    }
    if (probes.length) details.byAction = byAction;
    if (!wrong.length) return { valid: true as const, details };
    details.wrongExamples = examples(wrong.map((p) => ({ client: p.client, action: p.action, expected: p.expected, outcome: p.outcome, t: p.t })));
    return { valid: false as const, details, failedAt: wrong[0]!.t };
  };
}
