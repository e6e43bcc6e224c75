/**
 * The end-of-test text the scripts print from handleSummary (k6 prints nothing of its own once
 * a script defines handleSummary): thresholds first, then the chat's metrics. It reads k6's
 * documented summary `data` object defensively, so an unexpected shape degrades to fewer lines.
 */
import { COUNTERS, TRENDS } from './vu.ts';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

const fmt = (v: unknown) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(2)) : '-');

export function textSummary(data: unknown): string {
  const metrics = isObj(data) && isObj(data.metrics) ? data.metrics : {};
  const lines: string[] = ['', 'THRESHOLDS'];
  let anyThreshold = false;
  for (const [name, m] of Object.entries(metrics)) {
    if (!isObj(m) || !isObj(m.thresholds)) continue;
    for (const [expr, t] of Object.entries(m.thresholds)) {
      anyThreshold = true;
      const ok = isObj(t) && t.ok === true;
      lines.push(`  ${ok ? 'ok  ' : 'FAIL'} ${name} ${expr}`);
    }
  }
  if (!anyThreshold) lines.push('  (none)');
  lines.push('', 'CHAT METRICS (ms)');
  for (const name of TRENDS) {
    const v = isObj(metrics[name]) && isObj((metrics[name] as Obj).values) ? ((metrics[name] as Obj).values as Obj) : undefined;
    if (!v) continue;
    lines.push(`  ${name.padEnd(18)} count=${fmt(v.count)} med=${fmt(v.med)} p(90)=${fmt(v['p(90)'])} p(99)=${fmt(v['p(99)'])} max=${fmt(v.max)}`);
  }
  const counts = COUNTERS.map((name) => {
    const m = metrics[name];
    const v = isObj(m) && isObj(m.values) ? m.values.count : undefined;
    return `${name}=${fmt(v)}`;
  });
  lines.push(`  ${counts.join(' ')}`, '');
  return lines.join('\n');
}
