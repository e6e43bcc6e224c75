/**
 * CPU time and resident memory of process trees, read from Linux's /proc: utime+stime of every
 * process in a tree (fields 14-15 of /proc/<pid>/stat), plus the root's cutime+cstime so that
 * children which exited and were reaped during a step (Postgres backends) still count, and RSS
 * (field 24, in pages; the VmRSS of /proc/<pid>/status).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcStat {
  pid: number;
  ppid: number;
  /** utime + stime, clock ticks. */
  ticks: number;
  /** cutime + cstime: reaped children, clock ticks. */
  childTicks: number;
  rssPages: number;
}

/** Parses one /proc/<pid>/stat line; the command name may hold spaces and parentheses. */
export function parseStat(line: string): ProcStat | undefined {
  const open = line.indexOf('(');
  const close = line.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const pid = Number(line.slice(0, open).trim());
  // Fields from 3 (state) on; index 0 here is field 3.
  const f = line.slice(close + 2).split(' ');
  const at = (field: number) => Number(f[field - 3]);
  const st: ProcStat = { pid, ppid: at(4), ticks: at(14) + at(15), childTicks: at(16) + at(17), rssPages: at(24) };
  return Number.isFinite(st.pid) && Number.isFinite(st.ticks) ? st : undefined;
}

function sysconf(name: string, fallback: number): number {
  try {
    const v = Number(execFileSync('getconf', [name], { encoding: 'utf8' }).trim());
    return v > 0 ? v : fallback;
  } catch {
    return fallback;
  }
}

let constants: { ticksPerSecond: number; pageBytes: number } | undefined;
export function procConstants(): { ticksPerSecond: number; pageBytes: number } {
  constants ??= { ticksPerSecond: sysconf('CLK_TCK', 100), pageBytes: sysconf('PAGESIZE', 4096) };
  return constants;
}

/** Every process's stat; processes that vanish while being read are skipped. */
export function readAllStats(root = '/proc'): Map<number, ProcStat> {
  const out = new Map<number, ProcStat>();
  for (const name of readdirSync(root)) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const st = parseStat(readFileSync(`${root}/${name}/stat`, 'utf8'));
      if (st) out.set(st.pid, st);
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

/** CPU time (user + system, ms) one process has used so far; NaN if it is gone or not given. */
export function processCpuMs(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    const st = parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    return st ? (st.ticks * 1000) / procConstants().ticksPerSecond : NaN;
  } catch {
    return NaN;
  }
}

export interface TreeUsage {
  /** Cumulative CPU ticks of the tree (with the root's reaped children). */
  ticks: number;
  rssPages: number;
  processes: number;
}

/**
 * Usage of the tree under `root`, leaving out subtrees rooted at `exclude` (other parts: the
 * harness is the parent of Postgres and the connector, whose figures are their own).
 */
export function treeUsage(stats: ReadonlyMap<number, ProcStat>, root: number, exclude: ReadonlySet<number>, withReaped = true): TreeUsage | undefined {
  const top = stats.get(root);
  if (!top) return undefined;
  const children = new Map<number, number[]>();
  for (const s of stats.values()) {
    const list = children.get(s.ppid);
    if (list) list.push(s.pid);
    else children.set(s.ppid, [s.pid]);
  }
  const usage: TreeUsage = { ticks: withReaped ? top.childTicks : 0, rssPages: 0, processes: 0 };
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop()!;
    const s = stats.get(pid);
    if (!s) continue;
    usage.ticks += s.ticks;
    usage.rssPages += s.rssPages;
    usage.processes++;
    for (const c of children.get(pid) ?? []) if (!exclude.has(c)) stack.push(c);
  }
  return usage;
}

/** Busy and total jiffies of the whole machine (first line of /proc/stat). */
export function machineTicks(path = '/proc/stat'): { busy: number; total: number } | undefined {
  try {
    const line = readFileSync(path, 'utf8').split('\n', 1)[0]!;
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const total = v.reduce((a, b) => a + b, 0);
    // idle and iowait are the idle part.
    return { busy: total - (v[3] ?? 0) - (v[4] ?? 0), total };
  } catch {
    return undefined;
  }
}
