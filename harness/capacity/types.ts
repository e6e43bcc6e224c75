/** The figures of a capacity sweep: one entry per load step, and what the sweep concluded. */
import type { ThresholdResult } from '../checks/thresholds.ts';
import type { ResourceSummary } from './sampler.ts';

export type StepVerdict = 'pass' | 'check-failed' | 'errors' | 'generator-saturated' | 'slo-broken';

export interface StepResult {
  index: number;
  usersPerRoom: number;
  /** Offered arrival rate, operations per second across all users. */
  targetRate: number;
  durationMs: number;
  /** A bisection step between the last pass and the first failure. */
  refinement: boolean;
  dir: string;
  achieved: { opsPerSec: number; deliveriesPerSec: number };
  e2e: { p50: number; p90: number; p99: number; max: number; count: number };
  /** p99 of each pipeline stage, ms. */
  stageP99: Record<string, number>;
  counts: { sent: number; committed: number; delivered: number; lost: number; failed: number; dropped: number; rejected: number };
  checksFailed: string[];
  slo: ThresholdResult[];
  generator: { saturated: boolean; maxEventLoopDelayP99Ms: number; maxCpuPercent: number };
  resources: ResourceSummary;
  /** Measured on the stack during the step. */
  traffic: { lambdaInvocations: number | null; realtimeIn: number | null; realtimeOut: number | null };
  verdict: StepVerdict;
  reasons: string[];
  /** Failed only by the generator's saturation and run again: not counted for the knee. */
  superseded?: boolean;
}

export interface Saturation {
  /** The part named as the limit at the first bad step: a part of the stack unless the evidence is the generator. */
  part: string;
  /** 0..1 of its capacity (see harness/capacity/attribute.ts: one core, min(workers, cores), or the machine). */
  utilization: number;
  saturated: boolean;
  atRate: number;
  /** Which evidence named the part: the generator's health, a part's CPU, the stage whose latency grew most, or only the busiest part. */
  namedBy: 'generator' | 'cpu' | 'stage-latency' | 'machine' | 'busiest';
  evidence: string;
  ranking: Array<{ part: string; utilization: number; basis: string }>;
  /** The pipeline stage whose p99 grew most from the last good step to the first bad one (null without a good step or growth). */
  slowestGrowingStage: { stage: string; fromMs: number; toMs: number; fromRate: number; toRate: number } | null;
  /**
   * The stack part that would reach its own capacity first were it not sharing the machine's cores:
   * its CPU per operation, measured at the last good step, projected linearly. Null without samples.
   */
  ownLimit: { part: string; atRate: number; basis: string } | null;
  /** Every stage's p99 at those two steps, largest growth first. */
  stageGrowth: Array<{ stage: string; fromMs: number; toMs: number; fromRate: number; toRate: number }>;
}

export interface KneeResult {
  usersPerRoom: number;
  /** 'found': a passing rate below a failing one; 'lower-bound': nothing failed up to --max; 'none': the first rate already failed. */
  status: 'found' | 'lower-bound' | 'none';
  knee: StepResult | null;
  firstFailure: StepResult | null;
  saturation: Saturation | null;
}

export interface ProjectionRow {
  label: string;
  ratePerRoom: number;
  rooms: number;
  writersPerRoom: number;
  readersPerRoom: number;
  perSecond: { publishes: number; deliveries: number; realtimeMessages: number; lambdaInvocations: number; dbWrites: number; notifies: number };
  perMonth: { realtimeMessages: number; lambdaInvocations: number; dbWrites: number };
}
