/**
 * The harness's handles on the stack parts that run as their own processes: the same controls
 * the in-process services offered, asynchronous now that they cross a process boundary.
 */
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { FunctionStats, InvocationRecord, LambdaFault } from '../../lambda/index.ts';
import type { Redelivery, RuleInvocationRecord, RuleStats } from '../../realtime/rules/index.ts';
import { PartProcess } from '../part-process.ts';
import { functionsPartSpec, type FunctionsPartSpec } from './functions-spec.ts';
import { lambdaPartSpec, type LambdaPartSpec } from './lambda-spec.ts';
import { realtimePartSpec, type RealtimePartSpec } from './realtime-spec.ts';

const entry = (file: string) => fileURLToPath(new URL(file, import.meta.url));

export interface RealtimeAdmin {
  /** A seeded drop picks the same sockets every time (a run's faults replay). */
  dropConnections(fraction?: number, seed?: number, tokenOnly?: boolean): Promise<number>;
  pauseDelivery(): Promise<void>;
  resumeDelivery(): Promise<void>;
  setDelay(ms: number): Promise<void>;
  /** Every socket cut and all in-memory state lost, the port closed for `downMs`, then listening again. */
  restart(downMs?: number): Promise<{ connectionsLost: number }>;
  goDown(): Promise<{ connectionsLost: number }>;
  comeUp(): Promise<void>;
  liveConnections(): Promise<number>;
}

export interface RealtimeHandle {
  host: string;
  port: number;
  apiKey: string;
  clientOptions: z.output<RealtimePartSpec['ready']>['clientOptions'];
  admin: RealtimeAdmin;
  metricsText(): Promise<string>;
}

export interface RulesHandle {
  stats(): Promise<RuleStats>;
  /** Resolves when nothing is buffered, queued, in flight or waiting for a retry. */
  drain(): Promise<void>;
  /** Every invocation phase, streamed from the realtime part; `at` is epoch ms. Returns unsubscribe. */
  onInvocation(listener: (r: RuleInvocationRecord) => void): () => void;
  /** Late redelivery on the ably-lambda rules until set again without one; the ids of the rules that took it. */
  setRedelivery(r: Redelivery | undefined): Promise<string[]>;
}

export interface LambdaHandle {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  setFault(fn: string, fault: LambdaFault): Promise<void>;
  stats(fn: string): Promise<FunctionStats>;
  /** Resolves when no asynchronous event waits, runs or awaits a retry. */
  drain(): Promise<void>;
  onInvocation(listener: (r: InvocationRecord) => void): () => void;
}

export interface FunctionsHandle {
  url: string;
  tokenUrl: string;
  historyUrl: string;
  loginUrl: string;
}

const LONG = 24 * 3600_000;

const semiSpaceSchema = z.coerce.number().int().min(1).max(256).optional();

/**
 * The realtime part's V8 flags. Its young generation is V8's default, 16 MB per semi-space: in the
 * abuse scenario a 64 MB one grew to 128 MiB of new space (RSS growth 91 MiB against 56 MiB with
 * 16), while chat-burst's realtime CPU per committed change stayed within 1% (see README, "abuse").
 * `REALTIME_SEMI_SPACE_MB` sets it for a measurement (`STACK_CPU_PROF` profiles it, as every part).
 * `npm run realtime` alone keeps 64 MB: the fan-out bench's rates, 50 times a chat room's, are where
 * a larger one pays.
 */
export function realtimeNodeFlags(env: NodeJS.ProcessEnv = process.env): string[] {
  const parsed = semiSpaceSchema.safeParse(env.REALTIME_SEMI_SPACE_MB || undefined);
  if (!parsed.success) throw new Error(`REALTIME_SEMI_SPACE_MB: expected an integer from 1 to 256 (MB), got ${JSON.stringify(env.REALTIME_SEMI_SPACE_MB)}`);
  return [`--max-semi-space-size=${parsed.data ?? 16}`];
}

export async function startRealtimePart(config: z.input<RealtimePartSpec['init']>): Promise<{ part: PartProcess<RealtimePartSpec>; realtime: RealtimeHandle; rules: RulesHandle }> {
  const part = new PartProcess('realtime', entry('./realtime-part.ts'), realtimePartSpec, config, realtimeNodeFlags());
  const info = await part.start();
  const none = {};
  const realtime: RealtimeHandle = {
    ...info,
    admin: {
      dropConnections: (fraction, seed, tokenOnly) =>
        part.request('dropConnections', { ...(fraction === undefined ? {} : { fraction }), ...(seed === undefined ? {} : { seed }), ...(tokenOnly ? { tokenOnly } : {}) }),
      pauseDelivery: async () => void (await part.request('pauseDelivery', none)),
      resumeDelivery: async () => void (await part.request('resumeDelivery', none)),
      setDelay: async (ms) => void (await part.request('setDelay', { ms })),
      restart: (downMs) => part.request('restart', downMs === undefined ? {} : { downMs }, 60_000 + (downMs ?? 0)),
      goDown: () => part.request('goDown', none),
      comeUp: async () => void (await part.request('comeUp', none)),
      liveConnections: () => part.request('liveConnections', none),
    },
    metricsText: () => part.request('metricsText', none),
  };
  const rules: RulesHandle = {
    stats: () => part.request('rulesStats', none),
    drain: async () => void (await part.request('rulesDrain', { timeoutMs: LONG }, LONG)),
    onInvocation: (listener) => part.on('ruleInvocations', (records) => records.forEach((r) => listener(r as RuleInvocationRecord))),
    setRedelivery: (r) => part.request('rulesSetRedelivery', r ? { redelivery: r } : {}),
  };
  return { part, realtime, rules };
}

export async function startLambdaPart(config: z.input<LambdaPartSpec['init']>): Promise<{ part: PartProcess<LambdaPartSpec>; lambda: LambdaHandle }> {
  const part = new PartProcess('lambda', entry('./lambda-part.ts'), lambdaPartSpec, config);
  const info = await part.start(60_000);
  const lambda: LambdaHandle = {
    ...info,
    setFault: async (fn, fault) => void (await part.request('setFault', { fn, fault })),
    stats: (fn) => part.request('stats', { fn }),
    drain: async () => void (await part.request('drain', { timeoutMs: LONG }, LONG)),
    onInvocation: (listener) => part.on('invocations', (records) => records.forEach((r) => listener(r as InvocationRecord))),
  };
  return { part, lambda };
}

export async function startFunctionsPart(config: z.input<FunctionsPartSpec['init']>): Promise<{ part: PartProcess<FunctionsPartSpec>; functions: FunctionsHandle }> {
  const part = new PartProcess('functions', entry('./functions-part.ts'), functionsPartSpec, config);
  return { part, functions: await part.start() };
}
