/**
 * `STACK_CPU_PROF=DIR` makes each stack part write a V8 CPU profile under DIR/<part>/ when it
 * exits (open it in Chrome DevTools or speedscope). Profiling the part processes themselves is
 * the only honest way to see where an idle hop spends its time on a shared machine, where wall
 * clock figures are noisy. `STACK_CPU_PROF_INTERVAL_US` samples more finely (default 1000 µs).
 */
import { join, resolve } from 'node:path';

export function cpuProfFlags(part: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const dir = env.STACK_CPU_PROF;
  if (!dir) return [];
  const flags = ['--cpu-prof', `--cpu-prof-dir=${join(resolve(dir), part.replace(/[^\w.-]/g, '_'))}`];
  const interval = Number(env.STACK_CPU_PROF_INTERVAL_US);
  if (Number.isInteger(interval) && interval > 0) flags.push(`--cpu-prof-interval=${interval}`);
  return flags;
}
