/**
 * A k6 run's settings from its environment (k6's `-e NAME=value` or the process environment),
 * checked at the edge: a bad value stops the run with the variable, the value and what was
 * expected. Targets follow the project's convention (ABLY_HOST/PORT/TLS; no host = real Ably).
 */
import { ABLY_HOST, type RealtimeTarget } from './protocol.ts';
import type { Workload, WorkloadOptions } from './workloads.ts';

export interface RunConfig {
  workload: Workload;
  options: WorkloadOptions;
  loginUrl: string;
  tokenUrl: string;
  realtime: RealtimeTarget;
  seed: number;
  /** Names this run's rooms and users; set the same RUN_TAG on every instance of a distributed run. */
  runTag: string | undefined;
  /** Time between the start and the first operation, for every user to sign in and subscribe. */
  joinMs: number;
  /** Time after the last operation for deliveries to arrive before users leave. */
  drainMs: number;
  maxInFlight: number;
  publishTimeoutMs: number;
}

export type Env = Record<string, string | undefined>;

export const ENV_HELP: Readonly<Record<string, string>> = {
  STACK_JSON: 'file holding the first line of `npm run stack -- --json` (absolute path): login, token and realtime endpoints',
  LOGIN_URL: "the chat's sign-in endpoint (POST {name}); overrides STACK_JSON",
  TOKEN_URL: "the chat's token endpoint (GET, with the session cookie); overrides STACK_JSON",
  ABLY_HOST: 'realtime/REST host; unset means Ably itself (main.realtime.ably.net, TLS)',
  ABLY_PORT: 'port of ABLY_HOST (default 443 with TLS, else 80)',
  ABLY_TLS: '"false" for the local realtime service (default true)',
  DURATION: 'load duration, e.g. 30s, 2m, 1500ms (default: the scenario\'s)',
  RATE: 'operations per second across all writers',
  USERS: 'writers per room',
  ROOMS: 'rooms',
  READERS: 'reader-only users per room',
  SEED: 'workload seed (default 1)',
  JOIN: 'time for users to join before the load starts (default 3s)',
  DRAIN: 'time after the load for deliveries to arrive (default 5s)',
  MAX_IN_FLIGHT: 'unacknowledged publishes per writer before operations are dropped (default 200)',
  PUBLISH_TIMEOUT: 'a publish not acknowledged within this counts as failed (default 15s)',
  RUN_TAG: 'lowercase letters/digits naming rooms and users (default: random per run)',
};

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export function parseDurationMs(name: string, value: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  const ms = m ? Number(m[1]) * UNITS[m[2] ?? 's']! : NaN;
  if (!(ms > 0)) throw new Error(`${name}: expected a duration such as 30s, 2m or 1500ms, got "${value}"`);
  return ms;
}

function num(env: Env, name: string, fallback: number, check: (n: number) => boolean, expected: string): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || !check(n)) throw new Error(`${name}: expected ${expected}, got "${raw}"`);
  return n;
}

const positive = (n: number) => n > 0;
const positiveInt = (n: number) => Number.isInteger(n) && n > 0;
const nonNegativeInt = (n: number) => Number.isInteger(n) && n >= 0;

function duration(env: Env, name: string, fallbackMs: number): number {
  const raw = env[name];
  return raw === undefined || raw === '' ? fallbackMs : parseDurationMs(name, raw);
}

interface StackEndpoints {
  loginUrl?: string;
  tokenUrl?: string;
  realtime?: { host?: string; port?: number; tls?: boolean };
}

function parseStack(text: string): StackEndpoints {
  let v: unknown;
  try {
    v = JSON.parse(text.trim().split('\n')[0] ?? '');
  } catch {
    throw new Error('STACK_JSON: expected the JSON line printed by `npm run stack -- --json`');
  }
  if (typeof v !== 'object' || v === null) throw new Error('STACK_JSON: expected a JSON object with loginUrl, tokenUrl and realtime');
  return v as StackEndpoints;
}

function url(name: string, value: string | undefined): string {
  if (!value) throw new Error(`${name}: expected an http(s) URL (set ${name} or STACK_JSON)`);
  if (!/^https?:\/\/[^/\s]+/.test(value)) throw new Error(`${name}: expected an http(s) URL, got "${value}"`);
  return value;
}

function target(env: Env, stack: StackEndpoints): RealtimeTarget {
  const host = env.ABLY_HOST || stack.realtime?.host;
  const tlsRaw = env.ABLY_TLS;
  if (tlsRaw !== undefined && tlsRaw !== '' && tlsRaw !== 'true' && tlsRaw !== 'false') throw new Error(`ABLY_TLS: expected "true" or "false", got "${tlsRaw}"`);
  if (!host) return { host: ABLY_HOST, port: 443, tls: true };
  const tls = tlsRaw === 'true' ? true : tlsRaw === 'false' ? false : env.ABLY_HOST ? true : (stack.realtime?.tls ?? true);
  const stackPort = env.ABLY_HOST ? undefined : stack.realtime?.port;
  const port = num(env, 'ABLY_PORT', stackPort ?? (tls ? 443 : 80), (n) => Number.isInteger(n) && n > 0 && n < 65536, 'a port number 1-65535');
  return { host, port, tls };
}

export function parseConfig(workload: Workload, env: Env, stackJson?: string): RunConfig {
  const stack = stackJson ? parseStack(stackJson) : {};
  const d = workload.defaults;
  const runTag = env.RUN_TAG || undefined;
  if (runTag !== undefined && !/^[a-z0-9]{1,12}$/.test(runTag)) throw new Error(`RUN_TAG: expected 1-12 lowercase letters or digits, got "${runTag}"`);
  return {
    workload,
    options: {
      durationMs: duration(env, 'DURATION', d.durationMs),
      rate: num(env, 'RATE', d.rate, positive, 'a positive number of operations per second'),
      users: num(env, 'USERS', d.users, positiveInt, 'a positive integer'),
      rooms: num(env, 'ROOMS', d.rooms, positiveInt, 'a positive integer'),
      readers: num(env, 'READERS', d.readers, nonNegativeInt, 'a non-negative integer'),
    },
    loginUrl: url('LOGIN_URL', env.LOGIN_URL || stack.loginUrl),
    tokenUrl: url('TOKEN_URL', env.TOKEN_URL || stack.tokenUrl),
    realtime: target(env, stack),
    seed: num(env, 'SEED', 1, nonNegativeInt, 'a non-negative integer'),
    runTag,
    joinMs: duration(env, 'JOIN', 3000),
    drainMs: duration(env, 'DRAIN', 5000),
    maxInFlight: num(env, 'MAX_IN_FLIGHT', 200, positiveInt, 'a positive integer'),
    publishTimeoutMs: duration(env, 'PUBLISH_TIMEOUT', 15_000),
  };
}

/** Room i of a run; the chat accepts [A-Za-z0-9_-]{1,64}. */
export const roomName = (runTag: string, i: number) => `k6-${runTag}-${i}`;
/** A user's display name, which is also its clientId (at most 32 characters). */
export const userName = (runTag: string, role: 'w' | 'r', i: number) => `k6-${runTag}-${role}${i}`;
