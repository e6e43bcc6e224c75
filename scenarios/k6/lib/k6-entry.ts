/**
 * The k6 side of a chat script: options, setup, the writer and reader sessions and
 * handleSummary for one workload. Only this file touches k6's APIs; the protocol, the schedule
 * and the bookkeeping live in plain modules that the Node tests drive against the real stack.
 *
 * Each virtual user runs one long session (one iteration of `per-vu-iterations`): sign in, get
 * a token, open the realtime WebSocket, subscribe, and (writers) publish on their own open-loop
 * schedule until the load window ends; then everyone stays for the drain and leaves.
 */
import { check } from 'k6';
import exec from 'k6/execution';
import http from 'k6/http';
import { Counter, Trend } from 'k6/metrics';
import { clearInterval, setInterval } from 'k6/timers';
import { WebSocket } from 'k6/websockets';
import type { Options } from 'k6/options';
import { parseConfig, roomName, userName, type RunConfig } from './config.ts';
import { hashString } from './planner.ts';
import { loginRequest, parseTokenDetails, parseTokenRequest, realtimeUrl, restOrigin, tokenEndpointRequest, tokenExchangeRequest, type HttpRequestSpec } from './protocol.ts';
import { textSummary } from './summary-text.ts';
import { ChatVirtualUser, COUNTERS, TRENDS, type CounterName, type MetricSink, type TrendName } from './vu.ts';
import { loadDurationMs, type Workload } from './workloads.ts';

const TICK_MS = 10;
/** Percentiles the report needs; k6's default stops at p(95). */
export const SUMMARY_TREND_STATS = ['count', 'avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)', 'p(99.9)'];

export interface SetupData {
  scenario: string;
  runTag: string;
  seed: number;
  loadStart: number;
  loadEnd: number;
  drainEnd: number;
  options: RunConfig['options'];
  target: { loginUrl: string; realtime: RunConfig['realtime'] };
}

// Custom metrics must exist in the init context; module scope is that context.
const counters = {} as Record<CounterName, Counter>;
for (const name of COUNTERS) counters[name] = new Counter(name);
const trends = {} as Record<TrendName, Trend>;
for (const name of TRENDS) trends[name] = new Trend(name, true);
const sink: MetricSink = {
  count: (name, n) => counters[name].add(n),
  trend: (name, ms) => trends[name].add(ms),
};

function request(spec: HttpRequestSpec) {
  return spec.method === 'POST' ? http.post(spec.url, spec.body ?? '', { headers: spec.headers }) : http.get(spec.url, { headers: spec.headers });
}

const body = (b: unknown) => (typeof b === 'string' ? b : '');

/** Token endpoint (the VU's cookie jar carries the session) -> Ably requestToken -> access token. */
function fetchAccessToken(cfg: RunConfig): string | undefined {
  const tr = request(tokenEndpointRequest(cfg.tokenUrl));
  if (!check(tr, { 'token endpoint issued a TokenRequest': (r) => r.status === 200 })) return undefined;
  try {
    const exchanged = request(tokenExchangeRequest(cfg.realtime, parseTokenRequest(body(tr.body))));
    if (!check(exchanged, { 'requestToken exchanged it for a token': (r) => r.status === 200 })) return undefined;
    return parseTokenDetails(body(exchanged.body)).token;
  } catch (e) {
    console.error(String(e));
    return undefined;
  }
}

export function k6Entry(workload: Workload) {
  const env = __ENV;
  const cfg = parseConfig(workload, env, env.STACK_JSON ? open(env.STACK_JSON) : undefined);
  const o = cfg.options;
  const loadMs = loadDurationMs(workload.executor(o));
  const writers = o.users * o.rooms;
  const readers = o.readers * o.rooms;
  const maxDuration = `${Math.ceil((cfg.joinMs + loadMs + cfg.drainMs) / 1000) + 30}s`;

  const options: Options = {
    scenarios: {
      writers: { executor: 'per-vu-iterations', exec: 'writer', vus: writers, iterations: 1, maxDuration },
      ...(readers > 0 ? { readers: { executor: 'per-vu-iterations' as const, exec: 'reader', vus: readers, iterations: 1, maxDuration } } : {}),
    },
    thresholds: workload.thresholds,
    summaryTrendStats: SUMMARY_TREND_STATS,
  };

  function setup(): SetupData {
    const time = http.get(`${restOrigin(cfg.realtime)}/time`);
    check(time, { 'realtime service reachable (GET /time)': (r) => r.status === 200 });
    const runTag = cfg.runTag ?? Math.floor(Math.random() * 36 ** 6).toString(36).padStart(6, '0');
    // The window is absolute so that every user of this instance shares one schedule.
    const loadStart = Date.now() + cfg.joinMs;
    return {
      scenario: workload.name,
      runTag,
      seed: cfg.seed,
      loadStart,
      loadEnd: loadStart + loadMs,
      drainEnd: loadStart + loadMs + cfg.drainMs,
      options: o,
      target: { loginUrl: cfg.loginUrl, realtime: cfg.realtime },
    };
  }

  function session(role: 'writer' | 'reader', data: SetupData): void {
    const index = exec.scenario.iterationInTest;
    const clientId = userName(data.runTag, role === 'writer' ? 'w' : 'r', index);
    const room = roomName(data.runTag, index % o.rooms);
    const login = request(loginRequest(cfg.loginUrl, clientId));
    if (!check(login, { 'signed in (POST login)': (r) => r.status === 200 })) return;
    const token = fetchAccessToken(cfg);
    if (!token) return;

    let ws: WebSocket | undefined;
    const vu = new ChatVirtualUser(
      {
        clientId,
        room,
        ...(role === 'writer'
          ? {
              writer: {
                mix: workload.mix,
                hot: workload.hot,
                executor: workload.executor(o),
                share: 1 / writers,
                phase: index / writers,
                seed: (data.seed ^ hashString(clientId)) >>> 0,
              },
            }
          : {}),
        loadStart: data.loadStart,
        loadEnd: data.loadEnd,
        drainEnd: data.drainEnd,
        maxInFlight: cfg.maxInFlight,
        publishTimeoutMs: cfg.publishTimeoutMs,
      },
      {
        send: (text) => ws?.send(text),
        now: () => Date.now(),
        sink,
        renewToken: () => fetchAccessToken(cfg),
        log: (m) => console.warn(m),
      },
    );

    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      clearInterval(timer);
      check(vu, {
        'connected to the realtime service': (v) => v.client.connectionId !== '',
        'subscribed to incoming': (v) => v.ready,
      });
      vu.finish();
    };
    ws = new WebSocket(realtimeUrl(cfg.realtime, token));
    ws.onmessage = (e) => {
      if (e && typeof e.data === 'string') vu.receive(e.data);
    };
    ws.onerror = (e) => {
      sink.count('errors', 1);
      console.warn(`${clientId}: websocket error ${e?.error ?? ''}`);
    };
    ws.onclose = end;
    const timer = setInterval(() => {
      vu.tick();
      if (vu.done) {
        vu.client.close();
        ws?.close();
        end();
      }
    }, TICK_MS);
  }

  return {
    options,
    setup,
    writer: (data: SetupData) => session('writer', data),
    reader: (data: SetupData) => session('reader', data),
    handleSummary(data: unknown): Record<string, string> {
      const out: Record<string, string> = { stdout: textSummary(data) };
      // The runner (npm run load:k6) names this file; the report is converted from it.
      if (env.K6_HARNESS_SUMMARY) out[env.K6_HARNESS_SUMMARY] = JSON.stringify(data, null, 2);
      return out;
    },
  };
}
