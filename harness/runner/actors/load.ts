import { runExecutor, type ExecutorConfig, type ExecutorResult } from '../../workload/executors.ts';
import { OperationPlanner, type PlannerOptions } from '../../workload/planner.ts';
import type { ChatUser } from '../../workload/user.ts';
import type { LiveStats } from '../live-stats.ts';
import type { ScenarioDefinition } from '../scenario.ts';
import type { Actor, ActorContext } from './actor.ts';

/** The scenario's writers and readers, and the executor that drives the writers on schedule. */
export class LoadActor implements Actor {
  readonly name = 'load';
  readonly writers: ChatUser[];
  readonly readers: ChatUser[];
  readonly users: ChatUser[];
  private run: Promise<ExecutorResult> | undefined;
  private beforePost: PlannerOptions['beforePost'];

  constructor(
    private readonly ctx: ActorContext,
    private readonly sc: ScenarioDefinition,
    private readonly executor: ExecutorConfig,
    counts: { users: number; readers: number },
  ) {
    const { rooms, runTag, users } = ctx;
    this.writers = rooms.flatMap((room, r) => Array.from({ length: counts.users }, (_, u) => users.user(`${runTag}-w${r}-${u}`, room, { late: false })));
    this.readers = rooms.flatMap((room, r) => Array.from({ length: counts.readers }, (_, u) => users.user(`${runTag}-r${r}-${u}`, room, { reader: true })));
    this.users = [...this.writers, ...this.readers];
  }

  /** Lets another actor act on each post before it is published (one hook; set before start). */
  interceptPosts(hook: NonNullable<PlannerOptions['beforePost']>): void {
    if (this.beforePost) throw new Error('the load already has a post interceptor');
    this.beforePost = hook;
  }

  start(): void {
    const { stats, say } = this.ctx;
    const planner = new OperationPlanner(this.writers, this.ctx.rng.fork(), {
      mix: this.sc.mix,
      hot: this.sc.hot,
      runTag: this.ctx.runTag,
      ...(this.beforePost ? { beforePost: this.beforePost } : {}),
    });
    const t0 = performance.now();
    this.run = runExecutor(this.executor, {
      recorder: stats,
      vus: this.writers.length,
      next: (vu) => planner.next(vu),
      onTick: (r) => {
        const s = stats.sample();
        say(
          `${((performance.now() - t0) / 1000).toFixed(0).padStart(4)}s  ops/s ${s.opsPerSec.toFixed(0).padStart(5)}  ` +
            `deliveries/s ${s.deliveriesPerSec.toFixed(0).padStart(6)}  e2e p99 ${s.p99Ms.toFixed(1).padStart(7)} ms  ` +
            `errors ${stats.failed}  dropped ${r.dropped}  ${busiest(stats)}`,
        );
      },
    });
  }

  /** Resolves when the executor has run its schedule. */
  done(): Promise<ExecutorResult> {
    if (!this.run) throw new Error('the load was not started');
    return this.run;
  }

  stop(): void {}

  settle = async (): Promise<void> => void (await this.run);
}

/** The progress line's generator figure: the busiest thread's CPU and event-loop delay. */
function busiest(stats: LiveStats): string {
  const b = stats.busiestThread();
  return b ? `gen cpu ${b.cpuPercent.toFixed(0)}% (${b.thread}, loop p99 ${b.eventLoopDelayP99Ms.toFixed(0)} ms)` : 'gen cpu -';
}
