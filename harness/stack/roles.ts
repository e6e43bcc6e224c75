/**
 * A stack seen by role. The runner, its actors and the virtual users reach a system under test
 * through its endpoints; only the nemesis reaches into parts, and only into those the stack owns.
 * A stack the harness started offers both (see `StartedStack`); a `--target` deployment is a
 * system under test and nothing more; a stack lacking a part simply has no field for it.
 */
import type * as Ably from 'ably';
import type { ReplayResult } from '../lambda/replay.ts';
import type { ConnectorProcess } from './connector-process.ts';
import type { StartedLinks } from './links.ts';
import type { LambdaHandle, RealtimeHandle, RulesHandle } from './parts/index.ts';
import type { StartedPostgres } from './postgres/index.ts';
import type { QuiesceResult } from './quiesce.ts';

/** Where clients and the judge reach the chat. */
export interface SutEndpoints {
  databaseUrl: string;
  loginUrl: string;
  tokenUrl: string;
  historyUrl: string;
  chatUrl?: string;
  /** The realtime service's address and root key, the Lambda endpoint and the admin API: where the harness runs them (the abuse scenario attacks them). */
  realtime?: { host: string; port: number; tls: boolean; apiKey: string };
  lambda?: { endpoint: string; region: string; accessKeyId: string; secretAccessKey: string };
  admin?: { url: string; auth: 'basic-root-key' };
}

export interface SystemUnderTest {
  endpoints: SutEndpoints;
  /** ably client options (minus auth) for the realtime service. */
  realtimeClientOptions: Ably.ClientOptions;
  /** Resolves when no write is queued in the rules, the Lambda runtime or the connector's outbox, or at the deadline, naming what was not quiet. */
  quiesce(timeoutMs: number): Promise<QuiesceResult>;
  /** The integration's record of every invocation, where the harness runs the integration. */
  rules?: Pick<RulesHandle, 'onInvocation'>;
  /** The on-failure destination of the chat-writer's asynchronous invocations, when configured. */
  destination?: { file: string; replayWhenQuiet: boolean; replay(): Promise<ReplayResult> };
  /** The OS processes of the parts, where the harness started them (per-part CPU and memory). */
  processes?(): Array<{ part: string; pid: number }>;
}

/** The parts of a stack a fault can break; each fault declares the one it needs (harness/faults/spec.ts). */
export type FaultTarget = 'connector' | 'postgres' | 'realtime' | 'lambda' | 'links';
export const FAULT_TARGETS: readonly FaultTarget[] = ['connector', 'postgres', 'realtime', 'lambda', 'links'];

export type ConnectorControl = Pick<ConnectorProcess, 'name' | 'running' | 'health' | 'kill' | 'stop' | 'start'>;
export type PostgresControl = Pick<StartedPostgres, 'provider' | 'connectionUri' | 'kill' | 'resume'>;

/** What the nemesis may break: only the parts the harness owns, each present only where it does. */
export interface FaultTargets {
  /** Every connector process (more than one when a standby runs). */
  connectors?: readonly ConnectorControl[];
  postgres?: PostgresControl;
  realtime?: Pick<RealtimeHandle, 'admin' | 'metricsText'>;
  lambda?: Pick<LambdaHandle, 'setFault'>;
  /** The integration rules, which run inside the realtime service (so a fault on them targets 'realtime'). */
  rules?: Pick<RulesHandle, 'setRedelivery'>;
  /** Proxies of the links the run asked for. */
  links?: StartedLinks;
}

const FIELD: Record<FaultTarget, keyof FaultTargets> = { connector: 'connectors', postgres: 'postgres', realtime: 'realtime', lambda: 'lambda', links: 'links' };

/** The fault targets a stack offers: those it has a field for. */
export function offeredTargets(t: FaultTargets): FaultTarget[] {
  return FAULT_TARGETS.filter((name) => t[FIELD[name]] !== undefined);
}

/** One part of the targets, for a fault the nemesis already checked is offered (so this only narrows). */
export function targetPart<K extends keyof FaultTargets>(t: FaultTargets, field: K): NonNullable<FaultTargets[K]> {
  const part = t[field];
  if (part === undefined) throw new Error(`the stack offers no ${field} to break`);
  return part;
}
