/**
 * Counters kept as plain numbers on the hot path and read by prom-client only at scrape time,
 * in a Registry of this service's own (several services may run in one process).
 */
import { Counter, Gauge, Registry } from 'prom-client';

export class Stats {
  connectionsOpened = 0;
  connectionsResumed = 0;
  connectionsDropped = 0;
  attaches = 0;
  /** ATTACHes of a resumed connection asking to continue from a channel serial. */
  resumedAttaches = 0;
  /** ...of which had messages to replay (the connection missed something while it was away). */
  resumedAttachesReplayed = 0;
  messagesIn = 0;
  messagesOut = 0;
  presenceIn = 0;
  acks = 0;
  heartbeats = 0;
  /** Message frames dropped because a slow consumer's socket was over its queued-bytes cap. */
  outboundDropped = 0;
  /** Message frames not sent because the connection was over its outbound rate (42915; the client sees 80020). */
  outboundRateDropped = 0;
  /** Records (published messages and presence events) evicted from channel history, by why. */
  readonly historyEvicted = new Map<string, number>();
  readonly nacks = new Map<number, number>();
  readonly errors = new Map<number, number>();
  readonly rest = new Map<string, number>();

  evicted(reason: string, n: number): void {
    this.historyEvicted.set(reason, (this.historyEvicted.get(reason) ?? 0) + n);
  }
  nack(code: number): void {
    this.nacks.set(code, (this.nacks.get(code) ?? 0) + 1);
  }
  error(code: number): void {
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
  }
  restRequest(route: string): void {
    this.rest.set(route, (this.rest.get(route) ?? 0) + 1);
  }
}

export function createRegistry(stats: Stats, gauges: { connections: () => number; channels: () => number; historyBytes: () => number }): Registry {
  const registry = new Registry();
  const simple = (name: string, help: string, read: () => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  const labelled = (name: string, help: string, label: string, read: () => Map<number | string, number>) =>
    new Counter({
      name,
      help,
      labelNames: [label],
      registers: [registry],
      collect() {
        this.reset();
        for (const [k, v] of read()) this.inc({ [label]: String(k) }, v);
      },
    });
  simple('realtime_connections_opened_total', 'Connections opened (new, not resumed)', () => stats.connectionsOpened);
  simple('realtime_connections_resumed_total', 'Connections resumed with their connection key', () => stats.connectionsResumed);
  simple('realtime_connections_dropped_total', 'Sockets closed abruptly through the admin API', () => stats.connectionsDropped);
  simple('realtime_attaches_total', 'ATTACHED replies sent', () => stats.attaches);
  simple('realtime_resumed_attaches_total', 'ATTACHes continuing from a channel serial after a resume', () => stats.resumedAttaches);
  simple('realtime_resumed_attaches_replayed_total', 'Resumed ATTACHes that had missed messages to replay', () => stats.resumedAttachesReplayed);
  simple('realtime_messages_in_total', 'Messages accepted for publishing (realtime and REST)', () => stats.messagesIn);
  simple('realtime_messages_out_total', 'Message deliveries to subscribers', () => stats.messagesOut);
  simple('realtime_presence_in_total', 'Presence messages accepted', () => stats.presenceIn);
  simple('realtime_acks_total', 'ACKs sent', () => stats.acks);
  simple('realtime_heartbeats_total', 'Heartbeats sent to idle connections (HEARTBEAT frames or WebSocket pings)', () => stats.heartbeats);
  simple('realtime_outbound_dropped_total', 'Message frames dropped for slow consumers (42915; the client sees 80020)', () => stats.outboundDropped);
  simple('realtime_outbound_rate_dropped_total', 'Message frames dropped for connections over their outbound rate (42915; the client sees 80020)', () => stats.outboundRateDropped);
  labelled('realtime_history_evicted_total', 'Records evicted from channel history (messages and presence events), by reason: age, count or bytes', 'reason', () => stats.historyEvicted);
  labelled('realtime_nacks_total', 'NACKs sent, by Ably error code', 'code', () => stats.nacks);
  labelled('realtime_errors_total', 'ERROR frames and REST errors, by Ably error code', 'code', () => stats.errors);
  labelled('realtime_rest_requests_total', 'REST requests, by route', 'route', () => stats.rest);
  new Gauge({ name: 'realtime_connections', help: 'Connections with an open socket', registers: [registry], collect() { this.set(gauges.connections()); } });
  new Gauge({ name: 'realtime_history_bytes', help: 'Bytes of channel history held in memory, all channels', registers: [registry], collect() { this.set(gauges.historyBytes()); } });
  new Gauge({ name: 'realtime_channels', help: 'Active channels', registers: [registry], collect() { this.set(gauges.channels()); } });
  return registry;
}
