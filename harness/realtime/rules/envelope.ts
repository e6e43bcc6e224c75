/**
 * Ably's enveloped payload for the AWS Lambda integration:
 * {source, appId, channel, site, ruleId, messages: [{id, clientId, connectionId, timestamp, name, data, encoding?}]}.
 * Object data travels as a JSON string with encoding "json", binary as base64, as Ably sends it.
 */
import type { PublishedMessage } from '../core.ts';

/** What the realtime service hands to a rule: the service's own published message. */
export type RuleMessage = PublishedMessage;

export interface EnvelopeMessage {
  id: string;
  clientId?: string;
  connectionId?: string;
  timestamp: number;
  name?: string;
  data?: unknown;
  encoding?: string;
}

export interface Envelope {
  source: 'channel.message';
  appId: string;
  channel: string;
  site: string;
  ruleId: string;
  messages: EnvelopeMessage[];
}

export function envelopeMessage(m: RuleMessage): EnvelopeMessage {
  const out: EnvelopeMessage = { id: m.id, timestamp: m.timestamp };
  if (m.clientId !== undefined) out.clientId = m.clientId;
  if (m.connectionId !== undefined) out.connectionId = m.connectionId;
  if (m.name !== undefined) out.name = m.name;
  const prior = m.encoding ? `${m.encoding}/` : '';
  const d = m.data;
  if (d === undefined || d === null) return out;
  if (typeof d === 'string') {
    out.data = d;
    if (m.encoding) out.encoding = m.encoding;
  } else if (d instanceof Uint8Array) {
    out.data = Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString('base64');
    out.encoding = `${prior}base64`;
  } else {
    out.data = JSON.stringify(d);
    out.encoding = `${prior}json`;
  }
  return out;
}

export function buildEnvelope(ruleId: string, appId: string, site: string, channel: string, messages: RuleMessage[]): Envelope {
  return { source: 'channel.message', appId, channel, site, ruleId, messages: messages.map(envelopeMessage) };
}
