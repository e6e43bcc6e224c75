/** `npm run capacity`'s work: the sweep, the knee, the saturating part and the projections, as one result. */
import type { ThresholdSpec } from '../checks/thresholds.ts';
import { collectEnvironment } from '../report/environment.ts';
import { coefficients, project } from './projection.ts';
import type { ReaderClient } from '../workload/user.ts';
import type { MachineShape } from './attribute.ts';
import { defaultReaderClient, runSweep, type SweepInput } from './sweep.ts';
import type { KneeResult, ProjectionRow, StepResult } from './types.ts';

export interface Target {
  ratePerRoom: number;
  rooms: number;
  readersPerRoom: number;
  /** Default: the users per room of the knee's series. */
  writersPerRoom?: number;
}

export interface CapacityInput extends SweepInput {
  /** Deployments to project besides the knee itself. */
  targets?: readonly Target[];
  /** How the integration rules were chosen (ably-lambda, ordered or a file), for the report. */
  rules?: string;
}

export interface CapacityResult {
  scenario: string;
  settings: {
    startRate: number;
    stepRate: number;
    maxRate: number;
    stepDurationMs: number;
    refine: number;
    slo: ThresholdSpec;
    rooms: number;
    readers: number;
    usersPerRoom: number[];
    seed: number;
    rules: string;
    readerClient: ReaderClient;
  };
  startedAt: string;
  durationMs: number;
  environment: Record<string, unknown>;
  cores: number;
  /** What each part could use: cores, Lambda workers, generator threads (the ranking's denominators). */
  machine: MachineShape;
  parts: string[];
  steps: StepResult[];
  knees: KneeResult[];
  projections: ProjectionRow[];
  projectionBasis: { step: number; measured: boolean } | null;
  notes: string[];
  /** 0 when every series found a knee (or held up to --max), 1 otherwise. */
  exitCode: 0 | 1;
  outDir: string;
}

export async function runCapacity(input: CapacityInput): Promise<CapacityResult> {
  const t0 = performance.now();
  const startedAt = new Date().toISOString();
  const sc = input.scenario;
  const rooms = input.rooms ?? sc.defaults.rooms;
  const readers = input.readers ?? sc.defaults.readers;
  const users = input.usersPerRoom?.length ? [...input.usersPerRoom] : [sc.defaults.users];
  const sweep = await runSweep(input);

  // Project from the knee of the first series that has one; else from its last step.
  const withKnee = sweep.knees.find((k) => k.knee);
  const basis: StepResult | undefined = withKnee?.knee ?? sweep.steps.at(-1);
  const projections: ProjectionRow[] = [];
  let projectionBasis: CapacityResult['projectionBasis'] = null;
  if (basis) {
    const k = coefficients(basis, basis.usersPerRoom + readers);
    projectionBasis = { step: basis.index, measured: k.measured };
    projections.push(
      project(withKnee ? `knee (${basis.targetRate} ops/s on ${rooms} room(s))` : `last step (${basis.targetRate} ops/s; no knee)`, k, {
        ratePerRoom: basis.achieved.opsPerSec / rooms,
        rooms,
        writersPerRoom: basis.usersPerRoom,
        readersPerRoom: readers,
      }),
    );
    for (const [i, t] of (input.targets ?? []).entries()) {
      const writers = t.writersPerRoom ?? basis.usersPerRoom;
      projections.push(
        project(`target ${i + 1}`, k, { ratePerRoom: t.ratePerRoom, rooms: t.rooms, readersPerRoom: t.readersPerRoom, writersPerRoom: writers }),
      );
    }
  }

  const notes = [
    `Each part runs in its own process and is ranked by its share of what it can use: a single-threaded Node part (realtime with its integration rules, functions, connector) of one core; ` +
      `the Lambda runtime of min(${sweep.machine.lambdaWorkers} workers, ${sweep.cores} cores); the generator of min(${sweep.machine.generatorWorkers} worker threads, ${sweep.cores} cores); Postgres of the machine. ` +
      'The part named as the limit comes from the generator\'s health first (then the sweep measured the harness, and says so), then a part at 85% of its capacity, then the stage whose p99 grew most between the last good and the first bad step.',
    (input.readerClient ?? defaultReaderClient(sc)) === 'light'
      ? 'Readers ran the light client (a minimal protocol subscriber) and publishing users the SDK: a sweep measures the stack, and light readers cost the generator far less; --reader-client sdk measures with SDK readers.'
      : 'Readers and publishing users ran the ably SDK.',
    'Postgres figures cover the postmaster and all its backends (reaped backends included); RSS is summed over processes, so shared buffers count once per backend that touched them.',
    'The knee is this machine\'s, for this local stack: against Ably and AWS Lambda the realtime and Lambda parts scale on their own, and the knee moves to Postgres, the connector or the client side.',
    'Projections assume the rate is sustained all month (30 days): a sizing for the peak, not a bill. A write operation is a post, edit or delete; the scenario\'s share of typing publishes rides along. ' +
      'Realtime messages = publishes (clients and connector) + deliveries (one per subscriber), as Ably counts them. Database writes are chat-writer changes (row versions and rejections); ' +
      'the connector\'s durable mode adds, inside Postgres, an outbox row and a commit-order row per change and the outbox delete after the publish. One NOTIFY per committed change.',
  ];
  if ((input.rules ?? 'ably-lambda') === 'ably-lambda') {
    notes.push('The integration rules model Ably -> Lambda as AWS runs it: each invocation waits 0-40 ms in the async queue, so about 40 ms of any p99 is the model, not load; --rules ordered measures without it.');
  }
  if (projectionBasis && !projectionBasis.measured) notes.push('The realtime and Lambda counters were not available: their figures are modelled (one publish per operation and per change, one delivery per subscriber per change).');

  const exitCode = sweep.knees.every((k) => k.status !== 'none') && sweep.steps.length > 0 ? 0 : 1;
  return {
    scenario: sc.name,
    settings: {
      startRate: input.startRate,
      stepRate: input.stepRate,
      maxRate: input.maxRate,
      stepDurationMs: input.stepDurationMs,
      refine: input.refine,
      slo: input.slo,
      rooms,
      readers,
      usersPerRoom: users,
      seed: input.seed,
      rules: input.rules ?? 'ably-lambda',
      readerClient: input.readerClient ?? defaultReaderClient(sc),
    },
    startedAt,
    durationMs: Math.round(performance.now() - t0),
    environment: collectEnvironment(),
    cores: sweep.cores,
    machine: sweep.machine,
    parts: sweep.parts,
    steps: sweep.steps,
    knees: sweep.knees,
    projections,
    projectionBasis,
    notes,
    exitCode,
    outDir: input.outDir,
  };
}
