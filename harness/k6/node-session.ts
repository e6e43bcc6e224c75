/**
 * The k6 scripts' session, run under Node: the same sign-in requests, protocol client and
 * virtual user (scenarios/k6/lib), with fetch and the `ws` package standing in for k6/http and
 * k6/websockets. It exists so that tests can prove the frames and requests the k6 scripts send
 * are the ones a started stack accepts, without a k6 binary.
 */
import { WebSocket } from 'ws';
import {
  loginRequest,
  parseTokenDetails,
  parseTokenRequest,
  realtimeUrl,
  tokenEndpointRequest,
  tokenExchangeRequest,
  type HttpRequestSpec,
  type RealtimeTarget,
  type TokenRequest,
} from '../../scenarios/k6/lib/protocol.ts';
import { ChatVirtualUser, COUNTERS, TRENDS, type CounterName, type MetricSink, type TrendName, type VuPlan } from '../../scenarios/k6/lib/vu.ts';

export interface HttpResult {
  status: number;
  body: string;
  setCookie: string[];
}

export async function send(spec: HttpRequestSpec): Promise<HttpResult> {
  const res = await fetch(spec.url, { method: spec.method, headers: spec.headers, ...(spec.body !== undefined ? { body: spec.body } : {}) });
  return { status: res.status, body: await res.text(), setCookie: res.headers.getSetCookie() };
}

function expectOk(what: string, r: HttpResult): void {
  if (r.status !== 200) throw new Error(`${what}: HTTP ${r.status} ${r.body.slice(0, 200)}`);
}

export interface SignedIn {
  cookie: string;
  tokenRequest: TokenRequest;
  token: string;
  /** When the token expires (epoch ms). */
  expires: number;
}

/** Sign-in as the web app and the k6 scripts do it: login, token endpoint, requestToken. */
export async function signIn(loginUrl: string, tokenUrl: string, realtime: RealtimeTarget, name: string): Promise<SignedIn> {
  const login = await send(loginRequest(loginUrl, name));
  expectOk('login', login);
  const cookie = login.setCookie.map((c) => c.split(';')[0]).join('; ');
  const tr = await send(tokenEndpointRequest(tokenUrl, cookie));
  expectOk('token endpoint', tr);
  const tokenRequest = parseTokenRequest(tr.body);
  const exchanged = await send(tokenExchangeRequest(realtime, tokenRequest));
  expectOk('requestToken', exchanged);
  const details = parseTokenDetails(exchanged.body);
  return { cookie, tokenRequest, token: details.token, expires: details.expires };
}

export interface Recorded {
  counts: Record<CounterName, number>;
  trends: Record<TrendName, number[]>;
}

export function recordingSink(): MetricSink & Recorded {
  const counts = Object.fromEntries(COUNTERS.map((n) => [n, 0])) as Record<CounterName, number>;
  const trends = Object.fromEntries(TRENDS.map((n) => [n, [] as number[]])) as Record<TrendName, number[]>;
  return {
    counts,
    trends,
    count: (name, n) => (counts[name] += n),
    trend: (name, ms) => trends[name].push(ms),
  };
}

/** Runs one virtual user's whole session (connect, subscribe, publish, drain, close) like the k6 glue. */
export function runSession(plan: VuPlan, realtime: RealtimeTarget, token: string, sink: MetricSink, log: string[] = []): Promise<ChatVirtualUser> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(realtimeUrl(realtime, token));
    const vu = new ChatVirtualUser(plan, {
      send: (text) => ws.send(text),
      now: () => Date.now(),
      sink,
      log: (m) => log.push(m),
    });
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      clearInterval(timer);
      vu.finish();
      resolve(vu);
    };
    ws.on('message', (data, isBinary) => {
      if (isBinary) reject(new Error('the service sent a binary frame to a format=json connection'));
      else vu.receive(String(data));
    });
    ws.on('error', (err) => log.push(`websocket error: ${err.message}`));
    ws.on('close', end);
    const timer = setInterval(() => {
      vu.tick();
      if (vu.done) {
        vu.client.close();
        ws.close();
      }
    }, 10);
  });
}
