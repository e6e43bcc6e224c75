/**
 * The header lines of report.html that sum up the run at a glance: every check and threshold as a
 * badge, and the environment in one line (machine, versions, options, seed). The sections below
 * the charts carry the same in full.
 */
import { validityWord } from './describe.ts';
import { num } from '../lib/table.ts';
import type { Report } from './types.ts';

type Escape = (s: string) => string;

const badge = (esc: Escape, ok: boolean | 'unknown', text: string, title = '') =>
  `<span class="badge ${ok === true ? 'ok' : ok === false ? 'bad' : 'unk'}"${title ? ` title="${esc(title)}"` : ''}>${esc(text)}</span>`;

export function checksAndThresholdsLine(r: Report, esc: Escape): string {
  const valid = r.checks.filter((c) => c.valid === true).length;
  const checks = r.checks.map((c) => badge(esc, c.valid, c.name, validityWord(c.valid))).join(' ');
  const thresholds = r.thresholds.length
    ? r.thresholds.map((t) => badge(esc, t.passed, `${t.metric} ${t.expr} (${t.value === null ? 'no data' : num(t.value)})`, t.passed ? 'held' : 'failed')).join(' ')
    : 'none set';
  return `<p class="summary"><b>Checks</b> ${valid}/${r.checks.length} valid: ${checks}</p>\n<p class="summary"><b>Thresholds</b> ${thresholds}</p>`;
}

const str = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : undefined);
const obj = (v: unknown): Record<string, unknown> => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

export function environmentLine(r: Report, esc: Escape): string {
  const env = r.environment;
  const m = obj(env.machine);
  const versions = Object.entries(obj(env.versions)).map(([k, v]) => `${k} ${str(v) ?? '?'}`);
  const machine = [str(m.cpuModel) && `${str(m.cpuModel)} x ${str(m.cpus) ?? '?'} cores`, str(m.memoryGiB) && `${str(m.memoryGiB)} GiB`, str(m.platform)].filter(Boolean);
  const o = r.options;
  const load = [
    str(o.rate) && `${str(o.rate)} ops/s`,
    str(o.rooms) && `${str(o.rooms)} room(s) x ${str(o.users) ?? '?'} users + ${str(o.readers) ?? '?'} readers`,
    typeof o.durationMs === 'number' && `${(o.durationMs / 1000).toFixed(1)} s`,
  ].filter(Boolean);
  const stack = obj(env.stack);
  const parts = [
    `<b>Machine</b> ${esc(machine.join(', ') || 'unknown')}`,
    `<b>Versions</b> ${esc([`node ${str(env.node) ?? '?'}`, ...versions].join(', '))}`,
    `<b>Options</b> ${esc([...load, ...(str(stack.postgres) ? [`postgres ${str(stack.postgres)}`] : [])].join(', ') || 'defaults')}`,
    `<b>Seed</b> ${esc(r.run.seed === null ? 'none' : String(r.run.seed))}`,
  ];
  return `<p class="summary env">${parts.join(' &middot; ')}</p>`;
}
