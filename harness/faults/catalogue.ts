/**
 * Every fault the nemesis can inject, by name. A fault starts, optionally lasts (DURATION), and
 * ends; what it measured (restart time, catch-up time, takeover time) goes into the history's
 * fault events, so the report can show it beside the fault window.
 */
import pg from 'pg';
import { targetPart, type ConnectorControl, type FaultTarget, type FaultTargets } from '../stack/roles.ts';
import { isLinkName, LINK_NAMES, type LinkName } from '../stack/links.ts';
import { parseDuration } from '../lib/duration.ts';
import { SLOT_LAG_DEFAULT, slotCaughtUp, startSlotLag } from './slot-lag.ts';

type RealtimeTarget = NonNullable<FaultTargets['realtime']>;

export interface FaultContext {
  /** The parts of the stack the harness owns; the nemesis has checked this fault's part is there. */
  targets: FaultTargets;
  value?: string;
  /** This fault's share of the run's seed: every random choice a fault makes draws from it. */
  seed?: number;
}

export interface ActiveFault {
  detail?: string;
  /** Undoes the fault; returns what it measured. Absent for instantaneous faults. */
  end?: () => Promise<string | undefined>;
}

interface ValueSpec {
  help: string;
  default?: string;
  check(v: string): string | undefined;
}

export interface FaultDef {
  description: string;
  value?: ValueSpec;
  needsDuration?: boolean;
  /** The part it breaks, when its name's prefix (connector-, pg-, rt-, lambda-, net-) does not say. */
  target?: FaultTarget;
  /** The connector's capture mode the fault works on; refused at parse time under another. */
  connectorMode?: 'wal';
  /** Stack options the fault needs (a link through a proxy, a standby connector). */
  needs?: (value: string | undefined) => { link?: LinkName; connectors?: number };
  start(ctx: FaultContext): Promise<ActiveFault>;
}

const fraction: ValueSpec = {
  help: 'a fraction between 0 and 1, e.g. 0.3',
  check: (v) => (Number(v) >= 0 && Number(v) <= 1 ? undefined : 'expected a number between 0 and 1'),
};
const millis = (dflt?: string): ValueSpec => ({
  help: 'milliseconds, e.g. 50 or 50ms',
  ...(dflt ? { default: dflt } : {}),
  check: (v) => (Number.isFinite(ms(v)) && ms(v) >= 0 ? undefined : 'expected milliseconds, e.g. 50 or 50ms'),
});
const ms = (v: string) => Number(v.replace(/ms$/, ''));
const positiveInt: ValueSpec = {
  help: 'a whole number of at least 1',
  check: (v) => (Number.isInteger(Number(v)) && Number(v) >= 1 ? undefined : 'expected a whole number >= 1'),
};
const linkAnd = (what: string): ValueSpec => ({
  help: `${what ? `LINK/${what}` : 'LINK'}, LINK one of ${LINK_NAMES.join(', ')}`,
  check: (v) => {
    const [link, amount] = v.split('/');
    if (!isLinkName(link ?? '')) return `expected LINK/${what} with LINK one of ${LINK_NAMES.join(', ')}`;
    if (what && !(amount !== undefined && ms(amount) >= 0)) return `expected LINK/${what}, e.g. ${link}/50ms`;
    return undefined;
  },
});
const linkOf = (v: string | undefined): LinkName => (v ?? '').split('/')[0] as LinkName;

function durationProblem(v: string): string | undefined {
  try {
    return parseDuration(v) > 0 ? undefined : 'expected a duration above 0, e.g. 20s';
  } catch {
    return 'expected a duration, e.g. 20s';
  }
}

async function pollUntil(cond: () => Promise<boolean>, timeoutMs: number, everyMs = 20): Promise<number | undefined> {
  const t0 = performance.now();
  while (performance.now() - t0 < timeoutMs) {
    if (await cond()) return performance.now() - t0;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return undefined;
}

async function resumeCounts(rt: RealtimeTarget): Promise<{ resumed: number; replayed: number }> {
  const text = await rt.metricsText();
  const read = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  return { resumed: read('realtime_resumed_attaches_total'), replayed: read('realtime_resumed_attaches_replayed_total') };
}

/** The counts once resumed attaches stop coming (clients reattach within a few round trips), at most 10 s on. */
async function resumesSettled(rt: RealtimeTarget, before: { resumed: number }): Promise<{ resumed: number; replayed: number }> {
  let last = await resumeCounts(rt);
  let stableSince = performance.now();
  const deadline = performance.now() + 10_000;
  while (performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    const now = await resumeCounts(rt);
    if (now.resumed !== last.resumed) stableSince = performance.now();
    last = now;
    if (last.resumed > before.resumed && performance.now() - stableSince >= 500) break;
  }
  return last;
}

async function activeConnector(targets: FaultTargets): Promise<ConnectorControl> {
  const all = targetPart(targets, 'connectors').filter((c) => c.running);
  const health = await Promise.all(all.map((c) => c.health()));
  const i = health.findIndex((h) => h?.active);
  const c = all[i] ?? all[0];
  if (!c) throw new Error('no connector is running');
  return c;
}

/**
 * Catch-up after a restart: time until every change committed before the restart has left the
 * outbox (published and acknowledged). Under load the outbox is never empty, so "empty" would
 * never be reached; the changes that piled up while the connector was down are what matter.
 */
async function caughtUp(targets: FaultTargets, since: number): Promise<string> {
  const mode = (await Promise.all(targetPart(targets, 'connectors').map((c) => c.health()))).find((h) => h)?.mode;
  if (mode === 'notify') return 'NOTIFY-only mode: changes committed while it was down are never sent';
  if (!targets.postgres) return 'catch-up not measured: the stack offers no database to read the outbox from';
  if (mode === 'wal') return slotCaughtUp(targets, since);
  const c = new pg.Client({ connectionString: targets.postgres.connectionUri });
  await c.connect();
  try {
    const top = (await c.query<{ max: string | null }>('SELECT max(seq)::text AS max FROM ably_outbox')).rows[0]?.max;
    if (top === null || top === undefined) return 'nothing to catch up';
    const left = async () => (await c.query<{ n: string }>('SELECT count(*)::text AS n FROM ably_outbox WHERE seq <= $1', [top])).rows[0]!.n;
    const done = await pollUntil(async () => (await left()) === '0', 60_000);
    return done === undefined ? `NOT caught up within 60 s (${await left()} changes left)` : `caught up ${(performance.now() - since).toFixed(0)} ms after the restart began`;
  } finally {
    await c.end();
  }
}

function crash(how: 'kill' | 'graceful'): FaultDef['start'] {
  return async ({ targets }) => {
    const c = await activeConnector(targets);
    const t0 = performance.now();
    await (how === 'kill' ? c.kill() : c.stop());
    return {
      detail: `${how === 'kill' ? 'SIGKILL' : 'SIGTERM'} connector ${c.name} (stopped in ${(performance.now() - t0).toFixed(0)} ms)`,
      end: async () => {
        const t1 = performance.now();
        await c.start();
        return `restarted in ${(performance.now() - t1).toFixed(0)} ms; ${await caughtUp(targets, t1)}`;
      },
    };
  };
}

function lambdaFault(make: (v: string) => Record<string, number>): FaultDef['start'] {
  return async ({ targets, value, seed }) => {
    const lambda = targetPart(targets, 'lambda');
    const fault = { ...make(value ?? ''), ...(seed !== undefined ? { seed } : {}) };
    await lambda.setFault('chat-writer', fault);
    return { detail: JSON.stringify(fault), end: async () => (await lambda.setFault('chat-writer', {}), undefined) };
  };
}

function linkFault(kind: 'latency' | 'jitter' | 'cut'): FaultDef {
  return {
    description: kind === 'cut' ? 'cut a link for DURATION: new connections refused, open ones reset' : `add ${kind} to a link for DURATION`,
    value: linkAnd(kind === 'cut' ? '' : 'MS'),
    needsDuration: true,
    needs: (v) => ({ link: linkOf(v) }),
    start: async ({ targets, value, seed }) => {
      const link = linkOf(value);
      const proxy = targetPart(targets, 'links')[link];
      if (!proxy) throw new Error(`link ${link} is not routed through a proxy in this stack`);
      const amount = ms((value ?? '').split('/')[1] ?? '0');
      proxy.set(kind === 'cut' ? { cut: true } : kind === 'latency' ? { latencyMs: amount } : { jitterMs: amount, ...(seed !== undefined ? { seed } : {}) });
      return { detail: `${link}${kind === 'cut' ? ' cut' : ` +${amount} ms ${kind}`}`, end: async () => (proxy.clear(), undefined) };
    },
  };
}

/** As the late-redelivery preset (harness/realtime/rules/chat-rules.late-redelivery.json). */
const REDELIVERY_RATES = { delayRate: 0.15, duplicateRate: 0.3 };

export const FAULTS = {
  'connector-kill': { description: 'SIGKILL the active connector; restart it after DURATION (default at once)', start: crash('kill') },
  'connector-stop': { description: 'stop the active connector gracefully; restart it after DURATION', start: crash('graceful') },
  'connector-failover': {
    description: 'SIGKILL the active connector while a standby runs; measures takeover; the killed one rejoins as standby after DURATION',
    needs: () => ({ connectors: 2 }),
    start: async ({ targets }) => {
      const connectors = targetPart(targets, 'connectors');
      if (connectors.length < 2) throw new Error('connector-failover needs a standby connector (2 connectors)');
      const c = await activeConnector(targets);
      await c.kill();
      const took = await pollUntil(async () => (await Promise.all(connectors.filter((o) => o !== c).map((o) => o.health()))).some((h) => h?.active), 30_000);
      return {
        detail: `killed ${c.name}; ${took === undefined ? 'NO takeover within 30 s' : `standby took over in ${took.toFixed(0)} ms`}`,
        end: async () => (await c.start(), `${c.name} back as standby`),
      };
    },
  },
  'slot-lag': {
    description: 'stop every WAL connector for VALUE (default 5s) so the replication slot builds a WAL backlog, then start them again; measures the lag (bytes, seconds) and the catch-up time (needs --connector-mode wal)',
    value: { help: 'a duration, e.g. 10s', default: SLOT_LAG_DEFAULT, check: (v) => durationProblem(v) },
    target: 'connector',
    connectorMode: 'wal',
    start: async ({ targets, value }) => startSlotLag(targets, value),
  },
  'pg-restart-fast': { description: 'shut Postgres down (fast mode) and start it again after DURATION', start: pgRestart('fast') },
  'pg-restart-immediate': { description: 'shut Postgres down (immediate mode: crash recovery) and start it again after DURATION', start: pgRestart('immediate') },
  'pg-down': {
    description: 'hold Postgres down (fast shutdown) for VALUE (e.g. 20s), longer than the integration\'s retries if VALUE exceeds their time-scaled horizon',
    value: { help: 'a duration, e.g. 20s', check: (v) => durationProblem(v) },
    start: pgDown,
  },
  'pg-terminate': {
    description: "terminate every other connection to the database from the server side (pg_terminate_backend)",
    start: async ({ targets }) => {
      const c = new pg.Client({ connectionString: targetPart(targets, 'postgres').connectionUri });
      await c.connect();
      try {
        const r = await c.query<{ n: string }>(
          `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) AS n FROM pg_stat_activity
            WHERE datname = current_database() AND usename = current_user AND pid <> pg_backend_pid()`,
        );
        return { detail: `${r.rows[0]?.n ?? 0} connections terminated` };
      } finally {
        await c.end();
      }
    },
  },
  'rt-drop-all': {
    description: 'drop every client socket of the realtime service (clients reconnect and resume)',
    start: async ({ targets }) => ({ detail: `${await targetPart(targets, 'realtime').admin.dropConnections(1)} sockets dropped` }),
  },
  'rt-drop-clients': {
    description: "drop every client's socket but not the connector's, which keeps publishing, so every resume has a gap to replay; ends once the clients are back and says how many resumed attaches had messages to replay, failing below VALUE",
    value: { help: 'the least number of resumed attaches with messages to replay, e.g. 3', default: '1', check: (v) => (Number.isInteger(Number(v)) && Number(v) >= 0 ? undefined : 'expected a whole number >= 0') },
    start: async ({ targets, value }) => {
      const rt = targetPart(targets, 'realtime');
      const before = await resumeCounts(rt);
      const dropped = await rt.admin.dropConnections(1, undefined, true);
      return {
        detail: `${dropped} client sockets dropped`,
        end: async () => {
          const after = await resumesSettled(rt, before);
          const replayed = after.replayed - before.replayed;
          const text = `${after.resumed - before.resumed} resumed attaches, ${replayed} with messages to replay`;
          if (replayed < Number(value ?? 1)) throw new Error(`${text}: below the floor of ${value ?? 1}, so resume replay was barely tested`);
          return text;
        },
      };
    },
  },
  'rt-drop': {
    description: 'drop a random fraction (VALUE) of the realtime service\'s client sockets',
    value: fraction,
    start: async ({ targets, value, seed }) => ({ detail: `${await targetPart(targets, 'realtime').admin.dropConnections(Number(value), seed)} sockets dropped` }),
  },
  'rt-restart': {
    description: 'restart the realtime service: every socket cut, all its in-memory state lost (no resume), port closed for DURATION (default at once)',
    start: async ({ targets }) => {
      const rt = targetPart(targets, 'realtime');
      const before = await rt.admin.liveConnections();
      const { connectionsLost } = await rt.admin.goDown();
      return {
        detail: `${connectionsLost} connections lost`,
        end: async () => {
          const t0 = performance.now();
          await rt.admin.comeUp();
          const back = await pollUntil(async () => (await rt.admin.liveConnections()) >= before, 60_000, 50);
          return back === undefined
            ? `listening again; only ${await rt.admin.liveConnections()} of ${before} connections back after 60 s`
            : `listening again; all ${before} connections back ${back.toFixed(0)} ms later`;
        },
      };
    },
  },
  'rt-pause': {
    description: 'pause delivery by the realtime service for DURATION (publishes are queued)',
    needsDuration: true,
    start: async ({ targets }) => {
      const rt = targetPart(targets, 'realtime');
      await rt.admin.pauseDelivery();
      return { end: async () => (await rt.admin.resumeDelivery(), undefined) };
    },
  },
  'rt-delay': {
    description: 'delay every delivery by VALUE ms for DURATION',
    value: millis(),
    needsDuration: true,
    start: async ({ targets, value }) => {
      const rt = targetPart(targets, 'realtime');
      await rt.admin.setDelay(ms(value!));
      return { detail: `+${ms(value!)} ms`, end: async () => (await rt.admin.setDelay(0), undefined) };
    },
  },
  'lambda-errors': { description: 'the chat-writer fails with probability VALUE for DURATION', value: fraction, needsDuration: true, start: lambdaFault((v) => ({ errorRate: Number(v) })) },
  'lambda-latency': { description: 'the chat-writer starts VALUE ms late for DURATION', value: millis(), needsDuration: true, start: lambdaFault((v) => ({ delayMs: ms(v) })) },
  'lambda-timeouts': {
    description: 'the chat-writer stalls past its timeout (VALUE ms, default 200) for DURATION',
    value: millis('200'),
    needsDuration: true,
    start: lambdaFault((v) => ({ timeoutMs: ms(v || '200'), delayMs: ms(v || '200') * 2 })),
  },
  'lambda-concurrency': { description: 'the chat-writer\'s reserved concurrency is VALUE for DURATION', value: positiveInt, needsDuration: true, start: lambdaFault((v) => ({ concurrency: Number(v) })) },
  'lambda-redeliver': {
    description:
      "for DURATION, the integration redelivers late as AWS's asynchronous invocation does: 15% of envelopes are postponed and 30% invoked once more, each after a delay drawn between VALUE/6 and VALUE (default 3s); ably-lambda rules only",
    value: {
      help: 'the longest delay, a duration, e.g. 3s',
      default: '3s',
      check: (v) => {
        try {
          return parseDuration(v) > 0 ? undefined : 'expected a duration above 0, e.g. 3s';
        } catch {
          return 'expected a duration, e.g. 3s';
        }
      },
    },
    needsDuration: true,
    // The integration rules run inside the realtime service, as Ably's do.
    target: 'realtime',
    start: async ({ targets, value }) => {
      const rules = targets.rules;
      if (!rules) throw new Error('the stack has no integration rules the harness controls');
      const max = parseDuration(value ?? '3s');
      const took = await rules.setRedelivery({ ...REDELIVERY_RATES, delayMs: { min: max / 6, max } });
      return {
        detail: took.length ? `rules ${took.join(', ')}: late redelivery up to ${max} ms` : 'no ably-lambda rule: nothing is redelivered (ordered and queue rules do not redeliver late)',
        end: async () => (await rules.setRedelivery(undefined), undefined),
      };
    },
  },
  'net-latency': linkFault('latency'),
  'net-jitter': linkFault('jitter'),
  'net-cut': linkFault('cut'),
} satisfies Record<string, FaultDef>;

export type FaultName = keyof typeof FAULTS;
export const FAULT_NAMES = Object.keys(FAULTS) as FaultName[];

function pgRestart(mode: 'fast' | 'immediate'): FaultDef['start'] {
  return async ({ targets }) => {
    const p = targetPart(targets, 'postgres');
    if (!p.kill || !p.resume) throw new Error(`the ${p.provider} Postgres cannot be restarted by the harness (embedded only)`);
    const t0 = performance.now();
    await p.kill(mode);
    return {
      detail: `${mode} shutdown in ${(performance.now() - t0).toFixed(0)} ms`,
      end: async () => {
        const t1 = performance.now();
        await p.resume!();
        return `accepting connections ${(performance.now() - t1).toFixed(0)} ms after start`;
      },
    };
  };
}

/** pg-restart with the outage's length as the value, so a scenario states how long the database is gone. */
async function pgDown(ctx: FaultContext): Promise<ActiveFault> {
  const holdMs = parseDuration(ctx.value ?? '0');
  const t0 = performance.now();
  const active = await pgRestart('fast')(ctx);
  return {
    detail: `down for ${holdMs} ms; ${active.detail ?? ''}`,
    end: async () => {
      // The nemesis may call end early (a DURATION shorter than VALUE): the outage still lasts VALUE.
      const left = holdMs - (performance.now() - t0);
      if (left > 0) await new Promise((r) => setTimeout(r, left));
      return active.end?.();
    },
  };
}
