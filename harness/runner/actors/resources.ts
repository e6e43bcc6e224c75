import { procConstants, readAllStats, treeUsage } from '../../lib/proc.ts';
import type { Actor, ActorContext } from './actor.ts';

/**
 * Samples each stack process's resident memory once a second from the load's start until the
 * stack is quiet, as `resources` events: the report shows how a part's memory moved under the
 * run (the abuse scenario's question: does a hostile client make the realtime service grow?).
 */
export function resourcesActor(ctx: ActorContext, processes: () => Array<{ part: string; pid: number }>, intervalMs = 1000): Actor {
  let timer: NodeJS.Timeout | undefined;
  const sample = () => {
    const procs = processes();
    const stats = readAllStats();
    // Each part's own tree: the harness is the parent of some parts, whose memory is theirs.
    const roots = new Set(procs.map((p) => p.pid));
    const { pageBytes } = procConstants();
    const parts = procs.flatMap((p) => {
      const u = treeUsage(stats, p.pid, roots, false);
      return u ? [{ part: p.part, rssMiB: Math.round(((u.rssPages * pageBytes) / 2 ** 20) * 10) / 10 }] : [];
    });
    if (parts.length) ctx.stats.record({ type: 'resources', t: ctx.stats.now(), parts });
  };
  return {
    name: 'resources',
    start() {
      sample();
      timer = setInterval(sample, intervalMs);
      timer.unref();
    },
    // Sampling goes on while the attackers and the stack settle; it ends with the last actor's settle.
    stop() {},
    async settle() {
      if (timer) clearInterval(timer);
      timer = undefined;
      sample();
    },
  };
}
