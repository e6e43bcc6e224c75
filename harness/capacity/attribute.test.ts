import { describe, expect, it } from 'vitest';
import { attribute, coresOf, stageGrowth, utilizations } from './attribute.ts';
import { saturationLine } from './describe.ts';
import { findKnee } from './knee.ts';
import { HARNESS_PART, step } from './testing.ts';

/** Two cores, Lambda on four workers, the generator on one worker thread. */
const M = { cores: 2, lambdaWorkers: 4, generatorWorkers: 1 };
const share = (rows: ReturnType<typeof utilizations>) => rows.map((x) => [x.part, Math.round(x.utilization * 100)]);

describe('what each part can use', () => {
  it('is one core for a Node part, min(workers, cores) for Lambda and the generator, the machine for Postgres', () => {
    expect(coresOf('realtime', M).cores).toBe(1);
    expect(coresOf('connector primary', M).cores).toBe(1);
    expect(coresOf('lambda', M).cores).toBe(2);
    expect(coresOf('lambda', { ...M, lambdaWorkers: 1 }).cores).toBe(1);
    expect(coresOf(HARNESS_PART, M).cores).toBe(1);
    expect(coresOf(HARNESS_PART, { ...M, cores: 8, generatorWorkers: 3 }).cores).toBe(3);
    expect(coresOf(HARNESS_PART, { ...M, generatorWorkers: 0 }).cores).toBe(1);
    expect(coresOf('postgres', M).cores).toBe(2);
  });

  it('ranks each part by its share of that, not by percent of one core', () => {
    const u = utilizations(step(100, { lambdaCpu: 150, realtimeCpu: 70, pgCpu: 120, harnessCpu: 62, elu: 0.2, connectorCpu: 30, machine: 90 }), M);
    expect(share(u)).toEqual([
      ['machine (all cores)', 90],
      ['lambda', 75],
      ['realtime', 70],
      ['harness (generator)', 62],
      ['postgres', 60],
      ['connector primary', 30],
    ]);
    expect(u.find((x) => x.part === 'lambda')!.basis).toBe('CPU 150% of one core = 75% of 2 core(s) (4 workers on 2 cores)');
  });

  it("counts the generator's main event loop when it is busier than its CPU share", () => {
    const u = utilizations(step(100, { harnessCpu: 40, elu: 0.9 }), M);
    expect(u[0]).toMatchObject({ part: HARNESS_PART, utilization: 0.9 });
    expect(u[0]!.basis).toMatch(/^main thread's event loop 90% busy/);
  });
});

describe('which stage grew', () => {
  it('compares the last good step with the first bad one, largest growth first', () => {
    const g = stageGrowth(step(100, { ackToCommit: 60, commitToPublish: 4 }), step(150, { ackToCommit: 65, commitToPublish: 40 }));
    expect(g.map((x) => [x.stage, x.fromMs, x.toMs])).toEqual([
      ['commitToPublish', 4, 40],
      ['ackToCommit', 60, 65],
      ['invokeToAck', 3, 3],
      ['publishToReceive', 3, 3],
    ]);
    expect(g[0]).toMatchObject({ fromRate: 100, toRate: 150 });
  });

  it('has nothing to compare without a good step', () => {
    expect(stageGrowth(null, step(50))).toEqual([]);
  });
});

describe('the part named as the limit', () => {
  it('is the generator, said plainly, when its health failed', () => {
    const s = attribute(step(100), step(150, { genSaturated: true, lambdaCpu: 190 }), M);
    expect(s).toMatchObject({ part: HARNESS_PART, namedBy: 'generator', saturated: true });
    expect(s.evidence).toMatch(/^the load generator, not the stack, limited this sweep: its health failed \(event-loop delay p99 80 ms/);
  });

  it('is the generator when it used most of what it can and more than any part of the stack', () => {
    const s = attribute(step(100), step(150, { p99: 90, harnessCpu: 95, elu: 0.1, lambdaCpu: 100 }), M);
    expect(s).toMatchObject({ part: HARNESS_PART, namedBy: 'generator' });
  });

  it('is a part of the stack at its capacity, by CPU, saying where the latency grew if elsewhere', () => {
    const s = attribute(step(100), step(150, { p99: 90, realtimeCpu: 92, harnessCpu: 80, elu: 0.1, commitToPublish: 30 }), M);
    expect(s).toMatchObject({ part: 'realtime', namedBy: 'cpu', saturated: true, utilization: 0.92 });
    expect(s.evidence).toMatch(/^realtime used CPU 92% of one core = 92% of 1 core\(s\) \(single-threaded Node\)/);
    expect(s.evidence).toMatch(/commit->publish \(connector\): p99 4\.0 -> 30\.0 ms from 100 to 150 ops\/s, which points at connector primary/);
  });

  it('is, with no part at capacity, the busiest part of the stage that grew most', () => {
    const ack = attribute(step(100), step(150, { p99: 90, ackToCommit: 80, lambdaCpu: 120, realtimeCpu: 45, pgCpu: 70 }), M);
    expect(ack).toMatchObject({ part: 'lambda', namedBy: 'stage-latency', saturated: false, slowestGrowingStage: { stage: 'ackToCommit', fromMs: 10, toMs: 80 } });
    expect(ack.evidence).toMatch(/^ack->commit \(integration rules, Lambda, Postgres\): p99 10\.0 -> 80\.0 ms from 100 to 150 ops\/s grew most; of its parts lambda was busiest/);
    expect(attribute(step(100), step(150, { p99: 90, commitToPublish: 50 }), M)).toMatchObject({ part: 'connector primary', namedBy: 'stage-latency' });
    expect(attribute(step(100), step(150, { p99: 90, publishToReceive: 50 }), M)).toMatchObject({ part: 'realtime', namedBy: 'stage-latency' });
  });

  it('names a stack part even when the generator is the busiest process but healthy and below its capacity', () => {
    const s = attribute(step(100), step(150, { p99: 90, harnessCpu: 70, elu: 0.2, ackToCommit: 40 }), M);
    expect(s.part).not.toBe(HARNESS_PART);
    expect(s.namedBy).toBe('stage-latency');
  });

  it('says when the machine ran out of cores', () => {
    const s = attribute(step(100), step(150, { p99: 90, machine: 97, ackToCommit: 40 }), M);
    expect(s).toMatchObject({ saturated: true, namedBy: 'stage-latency' });
    expect(s.evidence).toMatch(/the machine's CPU was exhausted \(97% of all 2 cores busy\)/);
  });

  it("says when other processes on the machine took the cores, whatever evidence named the part", () => {
    // The stack and the harness: 10 + 20 + 20 + 8 + 40 = 98% of one core = 49% of two; the machine was 97% busy.
    const ours = attribute(step(100), step(150, { p99: 90, machine: 97, ackToCommit: 40 }), M);
    expect(ours.evidence).toMatch(/exhausted \(97% of all 2 cores busy\), so the parts queued behind each other for the cores$/);
    const others = attribute(step(100), step(150, { genSaturated: true, harnessCpu: 6, realtimeCpu: 6, lambdaCpu: 6, pgCpu: 6, connectorCpu: 2, machine: 100 }), M);
    expect(others).toMatchObject({ namedBy: 'generator' });
    expect(others.evidence).toMatch(/a thread at 97% of a core\).*; 87% of the busy time was processes outside the stack and the harness, so this limit is the machine's other load, not the stack's$/);
  });

  it('names the machine, not a stage, when no stage grew clearly more than the others and the cores ran out', () => {
    // commit->publish +2.1 ms and ack->commit +2.1 ms: alike, so neither is the bottleneck.
    const s = attribute(step(100, { commitToPublish: 15.4, ackToCommit: 53.7 }), step(150, { p99: 134, machine: 90, commitToPublish: 17.5, ackToCommit: 55.8 }), M);
    expect(s).toMatchObject({ part: 'machine (all cores)', namedBy: 'machine', saturated: true, slowestGrowingStage: null });
    expect(s.evidence).toMatch(/no stage's p99 grew clearly more than the others \(commitToPublish \+2\.1 ms, ackToCommit \+2\.1 ms/);
    // Still, the stack has its own first limit: realtime, 20% of its core at 100 ops/s, reaches its core first (500 ops/s);
    // Lambda at 20% of two cores would take 1000 ops/s, Postgres at 10% of the machine 2000.
    expect(s.ownLimit).toMatchObject({ part: 'realtime', atRate: 500 });
    expect(saturationLine({ usersPerRoom: 2, status: 'found', knee: null, firstFailure: null, saturation: s })).toMatch(
      /Of the stack, realtime would saturate first with its cores to itself, near 500 ops\/s \(CPU 20% of one core = 20% of 1 core\(s\) \(single-threaded Node\) at 100\.0 ops\/s/,
    );
    // Without the cores exhausted, it stays with the busiest part of the stack.
    expect(attribute(step(100, { commitToPublish: 15.4, ackToCommit: 53.7 }), step(150, { p99: 134, machine: 60, commitToPublish: 17.5, ackToCommit: 55.8 }), M)).toMatchObject({ namedBy: 'busiest' });
  });

  it('falls back to the busiest part of the stack when there is no good step to compare with', () => {
    const s = attribute(null, step(50, { p99: 90, harnessCpu: 70, elu: 0.1, pgCpu: 100 }), M);
    expect(s).toMatchObject({ part: 'postgres', namedBy: 'busiest', slowestGrowingStage: null });
  });

  it('is judged by the knee between the last good step and the step where the climb stopped', () => {
    const steps = [step(50, { ackToCommit: 10 }), step(100, { ackToCommit: 30 }), step(150, { p99: 90, ackToCommit: 34, commitToPublish: 60 }), { ...step(125, { p99: 60 }), refinement: true }];
    const k = findKnee(steps, 2, M);
    expect(k.saturation).toMatchObject({ atRate: 150, part: 'connector primary', slowestGrowingStage: { stage: 'commitToPublish', fromRate: 100, toRate: 150 } });
  });
});
