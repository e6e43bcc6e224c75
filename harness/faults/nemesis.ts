/**
 * The nemesis: runs scheduled faults against a stack's fault targets while the workload runs, and
 * records each fault window (start and end, with what it measured) in the history.
 */
import type { FaultEvent } from '../history/types.ts';
import type { StackOptions } from '../stack/index.ts';
import { offeredTargets, type FaultTargets } from '../stack/roles.ts';
import { FAULTS, type FaultDef } from './catalogue.ts';
import type { LinkName } from '../stack/links.ts';
import { checkFaultTarget, faultTarget, type FaultSpec } from './spec.ts';
import { Rng } from '../lib/rng.ts';

export interface FaultRecorder {
  now(): number;
  record(e: FaultEvent): void;
}

/** The stack options a set of faults needs (proxied links, a standby connector). */
export function stackNeeds(specs: readonly FaultSpec[]): Pick<StackOptions, 'links' | 'connectors'> {
  const links = new Set<LinkName>();
  let connectors = 1;
  for (const s of specs) {
    const n = (FAULTS[s.name] as FaultDef).needs?.(s.value);
    if (n?.link) links.add(n.link);
    if (n?.connectors) connectors = Math.max(connectors, n.connectors);
  }
  return { ...(links.size ? { links: [...links] } : {}), ...(connectors > 1 ? { connectors } : {}) };
}

export class Nemesis {
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly running = new Set<Promise<void>>();
  /** Faults that could not be started or ended, with the error: a run with these is suspect. */
  readonly errors: string[] = [];

  constructor(
    private readonly specs: readonly FaultSpec[],
    private readonly targets: FaultTargets,
    private readonly recorder: FaultRecorder,
    /** The run's seed; each fault gets its own seed from it, in schedule order, so replays match. */
    seed?: number,
  ) {
    for (const spec of specs) checkFaultTarget(spec, offeredTargets(targets));
    if (seed !== undefined) {
      const rng = new Rng(seed);
      for (const spec of specs) this.seeds.set(spec, rng.int(0, 0x7fffffff));
    }
  }

  private readonly seeds = new Map<FaultSpec, number>();

  /** Per part (connector, pg, rt, lambda, net): the end of its latest fault. */
  private readonly busy = new Map<string, Promise<void>>();

  /**
   * Schedules every fault relative to now (the start of the load). Faults on the same part run
   * one after another: a second kill of a connector that is still down would find nothing to
   * kill, so it waits for the first to end, and its window says how late it started.
   */
  start(): void {
    const t0 = performance.now();
    for (const spec of this.specs) {
      this.timers.push(
        setTimeout(() => {
          const part = faultTarget(spec.name);
          const before = this.busy.get(part) ?? Promise.resolve();
          const mine = before.then(() => this.run(spec, performance.now() - t0 - spec.atMs));
          this.busy.set(part, mine);
          this.track(mine);
        }, spec.atMs),
      );
    }
  }

  private track(p: Promise<void>): void {
    this.running.add(p);
    void p.finally(() => this.running.delete(p));
  }

  private async run(spec: FaultSpec, lateMs: number): Promise<void> {
    const def = FAULTS[spec.name] as FaultDef;
    const value = spec.value ?? def.value?.default;
    const name = spec.name;
    let active;
    try {
      const seed = this.seeds.get(spec);
      active = await def.start({ targets: this.targets, ...(value !== undefined ? { value } : {}), ...(seed !== undefined ? { seed } : {}) });
    } catch (err) {
      this.fail(spec, err);
      return;
    }
    const late = lateMs > 50 ? `started ${(lateMs / 1000).toFixed(1)} s late: the previous fault on this part had not ended` : undefined;
    this.recorder.record({ type: 'fault', t: this.recorder.now(), name, phase: 'start', detail: [spec.raw, active.detail, late].filter(Boolean).join(': ') });
    if (active.end) {
      if (spec.durationMs) await new Promise((r) => setTimeout(r, spec.durationMs));
      try {
        const measured = await active.end();
        this.recorder.record({ type: 'fault', t: this.recorder.now(), name, phase: 'end', ...(measured ? { detail: measured } : {}) });
      } catch (err) {
        this.errors.push(`${spec.raw}: ending failed: ${(err as Error).message}`);
        this.recorder.record({ type: 'fault', t: this.recorder.now(), name, phase: 'end', detail: `ending failed: ${(err as Error).message}` });
      }
    } else {
      this.recorder.record({ type: 'fault', t: this.recorder.now(), name, phase: 'end' });
    }
  }

  private fail(spec: FaultSpec, err: unknown): void {
    const msg = `${spec.raw}: ${(err as Error).message ?? String(err)}`;
    this.errors.push(msg);
    // In the history too: a run whose fault did not happen must not read as one that survived it.
    const t = this.recorder.now();
    this.recorder.record({ type: 'fault', t, name: spec.name, phase: 'start', detail: `FAILED to inject: ${msg}` });
    this.recorder.record({ type: 'fault', t, name: spec.name, phase: 'end' });
  }

  /** Cancels faults whose time has not come and waits for the others to end (so every part is back up). */
  async settle(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    while (this.running.size) await Promise.all([...this.running]);
  }
}
