/**
 * Capability probes: a signed-in user takes the TokenRequest the token endpoint gives it and
 * tries, through the unmodified SDK, what its token must refuse (publishing on the room's
 * incoming channel, where only the connector may publish) and what it must allow (typing).
 */
import * as Ably from 'ably';
import { incomingChannel, typingChannel } from '../../../reference-app/contract/index.ts';
import type { ProbeEvent } from '../../../harness/history/types.ts';
import type { Recorder } from '../../../harness/workload/recorder.ts';

export interface ProbeTarget {
  loginUrl: string;
  tokenUrl: string;
  realtime: Ably.ClientOptions;
}

async function signIn(t: ProbeTarget, name: string): Promise<string> {
  const res = await fetch(t.loginUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name }) });
  if (!res.ok) throw new Error(`sign-in of ${name} failed: HTTP ${res.status}`);
  return res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
}

export async function probeCapability(t: ProbeTarget, user: string, room: string, rec: Recorder): Promise<ProbeEvent[]> {
  const cookie = await signIn(t, user);
  const rest = new Ably.Rest({
    ...t.realtime,
    authCallback: (_p, cb) => {
      fetch(t.tokenUrl, { headers: { cookie } })
        .then(async (r) => {
          if (!r.ok) throw new Error(`token endpoint answered HTTP ${r.status}`);
          cb(null, (await r.json()) as Ably.TokenRequest);
        })
        .catch((err: unknown) => cb(String(err), null));
    },
  });
  const tries: Array<{ channel: string; expected: ProbeEvent['expected'] }> = [
    { channel: incomingChannel(room), expected: 'refused' },
    { channel: typingChannel(room), expected: 'allowed' },
  ];
  const out: ProbeEvent[] = [];
  for (const { channel, expected } of tries) {
    let error: string | undefined;
    try {
      // Not a change event: subscribers' views ignore it even when it gets through.
      await rest.channels.get(channel).publish('probe', { probe: user });
    } catch (err) {
      const e = err as { code?: unknown; message?: unknown };
      error = `${String(e.code)}: ${String(e.message)}`;
    }
    const e: ProbeEvent = { t: rec.now(), type: 'probe', client: user, action: `publish ${channel}`, expected, outcome: error ? 'refused' : 'allowed', ...(error ? { error } : {}) };
    rec.record(e);
    out.push(e);
  }
  return out;
}
