/**
 * JUnit XML for CI systems: one testsuite per scenario, one testcase per run (its checks and
 * thresholds) and one per compared metric, a failure element carrying the reason.
 */
import type { GateResult } from './run.ts';

const xml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');

interface Case {
  name: string;
  failure?: string;
  out?: string;
}

export function gateJUnit(g: GateResult): string {
  const suites = g.scenarios.map((s) => {
    const cases: Case[] = s.runs.map((r, i) => {
      const problems = [...r.failedChecks.map((c) => `check ${c} failed`), ...r.failedThresholds.map((t) => `threshold ${t} breached`)];
      return { name: `run ${i + 1} (seed ${r.seed}): checks and thresholds`, ...(problems.length ? { failure: problems.join('; ') } : {}), out: `run directory ${r.dir}` };
    });
    for (const c of s.comparisons) {
      cases.push({ name: `${c.label} vs baseline`, ...(c.verdict === 'regressed' ? { failure: c.reason } : {}), out: c.reason });
    }
    const failures = cases.filter((c) => c.failure).length;
    const body = cases
      .map((c) => {
        const inner = [c.failure ? `<failure message="${xml(c.failure)}" type="${c.name.includes('vs baseline') ? 'regression' : 'check'}">${xml(c.failure)}</failure>` : '', c.out ? `<system-out>${xml(c.out)}</system-out>` : '']
          .filter(Boolean)
          .join('');
        return `    <testcase classname="gate.${xml(s.scenario)}" name="${xml(c.name)}">${inner}</testcase>`;
      })
      .join('\n');
    return { xml: `  <testsuite name="gate.${xml(s.scenario)}" tests="${cases.length}" failures="${failures}" errors="0" skipped="0">\n${body}\n  </testsuite>`, tests: cases.length, failures };
  });
  const tests = suites.reduce((n, s) => n + s.tests, 0);
  const failures = suites.reduce((n, s) => n + s.failures, 0);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="regression gate" tests="${tests}" failures="${failures}" errors="0" time="${(g.durationMs / 1000).toFixed(3)}" timestamp="${xml(g.startedAt)}">\n${suites.map((s) => s.xml).join('\n')}\n</testsuites>\n`;
}
