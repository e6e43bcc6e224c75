/** Test helpers: Ably-shaped envelopes and a Lambda client, as the integration rule would use them. */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { MESSAGE_NAMES, outgoingChannel } from '../contract/index.ts';

export interface TestMessage {
  id: string;
  clientId?: string;
  name: string;
  data: unknown;
  timestamp?: number;
}

let clock = Date.now();

/** An envelope exactly as Ably's Lambda integration sends it: object data as a JSON string with encoding "json". */
export function envelope(room: string, messages: TestMessage[], channel = outgoingChannel(room)): Record<string, unknown> {
  return {
    source: 'channel.message',
    appId: 'app',
    channel,
    site: 'local-1',
    ruleId: 'chat-writer-rule',
    messages: messages.map((m) => {
      const objectData = typeof m.data === 'object' && m.data !== null;
      return {
        id: m.id,
        ...(m.clientId !== undefined ? { clientId: m.clientId } : {}),
        connectionId: 'conn-1',
        timestamp: m.timestamp ?? ++clock,
        name: m.name,
        data: objectData ? JSON.stringify(m.data) : m.data,
        ...(objectData ? { encoding: 'json' } : {}),
      };
    }),
  };
}

export const post = (id: string, clientId: string, text: string, timestamp?: number): TestMessage => ({
  id,
  clientId,
  name: MESSAGE_NAMES.post,
  data: { text },
  ...(timestamp !== undefined ? { timestamp } : {}),
});
export const edit = (id: string, clientId: string, target: string, text: string, timestamp?: number): TestMessage => ({
  id,
  clientId,
  name: MESSAGE_NAMES.edit,
  data: { id: target, text },
  ...(timestamp !== undefined ? { timestamp } : {}),
});
export const del = (id: string, clientId: string, target: string, timestamp?: number): TestMessage => ({
  id,
  clientId,
  name: MESSAGE_NAMES.delete,
  data: { id: target },
  ...(timestamp !== undefined ? { timestamp } : {}),
});

export async function invoke(client: LambdaClient, fn: string, event: unknown): Promise<{ error?: string; payload: unknown }> {
  const r = await client.send(new InvokeCommand({ FunctionName: fn, Payload: new TextEncoder().encode(JSON.stringify(event)) }));
  const text = r.Payload ? new TextDecoder().decode(r.Payload) : '';
  const payload: unknown = text ? JSON.parse(text) : undefined;
  return r.FunctionError ? { error: r.FunctionError, payload } : { payload };
}
