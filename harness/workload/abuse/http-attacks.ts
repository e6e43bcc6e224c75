/**
 * Attacks that skip the realtime path: a client poking the realtime service's admin (fault) API
 * with what a client has (nothing, or its own token), and a forged Invoke of the chat-writer
 * Lambda (a wrong signature, an unknown key) carrying an envelope that claims to be an honest
 * user's post. Refusals are counted by Ably's code (40101) and AWS's error type.
 */
import { request } from 'node:http';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { channelName, MESSAGE_NAMES } from '../../../reference-app/contract/index.ts';
import { quietAwsSdkNodeWarning } from '../../lib/aws-sdk.ts';
import type { AttackTally } from './tally.ts';

interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function httpRequest(url: string, method: string, headers: Record<string, string>, body = ''): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, timeout: 10_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: no answer within 10 s`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Ably's error code from a REST error answer (body or header), else the HTTP status. */
function ablyCode(a: HttpAnswer): string {
  try {
    const code = (JSON.parse(a.body) as { error?: { code?: number } }).error?.code;
    if (code) return String(code);
  } catch {
    /* not JSON */
  }
  const h = a.headers['x-ably-errorcode'];
  return typeof h === 'string' ? h : `http-${a.status}`;
}

/**
 * What a page in a browser or a signed-in client could send: the fault controls with no
 * credentials (from a foreign Origin, with its CORS preflight), with the client's token as a
 * Bearer, and with it as Basic. Each must be refused (401, 40101) and answered without an allowed
 * origin (a preflight without one is the browser's refusal: `cors-denied`).
 */
export async function pokeAdmin(adminUrl: string, clientToken: string, tally: AttackTally): Promise<void> {
  const origin = { origin: 'http://attacker.example' };
  const bearer = { authorization: `Bearer ${Buffer.from(clientToken).toString('base64')}` };
  const basic = { authorization: `Basic ${Buffer.from(`${clientToken}:`).toString('base64')}` };
  const pokes: Array<[string, string, Record<string, string>]> = [
    ['OPTIONS', '/pause', { ...origin, 'access-control-request-method': 'POST' }],
    ['POST', '/pause', origin],
    ['POST', '/delay?ms=600000', { ...origin, ...bearer }],
    ['POST', '/drop?fraction=1', bearer],
    ['POST', '/pause', basic],
  ];
  for (const [method, path, headers] of pokes) {
    tally.attempts++;
    const a = await httpRequest(`${adminUrl}${path}`, method, headers);
    // Without an allowed origin a browser refuses the preflight and never sends the request.
    const cors = ['access-control-allow-origin', 'access-control-allow-credentials'].filter((h) => a.headers[h] !== undefined);
    if (cors.length) {
      tally.accept(1, 1);
      tally.note(`${method} ${path} answered with ${cors.join(', ')}`);
    } else if (method === 'OPTIONS') tally.refuse('cors-denied');
    else if (a.status >= 200 && a.status < 300) {
      tally.accept(1, 1);
      tally.note(`${method} ${path} answered ${a.status}`);
    } else tally.refuse(ablyCode(a));
  }
}

export interface LambdaTarget {
  endpoint: string;
  region: string;
  accessKeyId: string;
  functionName: string;
}

/** An Ably integration envelope that claims `victim` posted in `room`: what a forged invoke would write. */
function forgedEnvelope(room: string, victim: string, n: number): string {
  const channel = channelName(room, 'outgoing');
  return JSON.stringify({
    source: 'channel.message',
    appId: 'chat',
    channel,
    site: 'local',
    ruleId: 'forged',
    messages: [{ id: `forged-${victim}-${n}`, clientId: victim, connectionId: 'forged', name: MESSAGE_NAMES.post, data: JSON.stringify({ text: 'forged post' }), encoding: 'json', timestamp: Date.now() }],
  });
}

/**
 * Invokes through @aws-sdk/client-lambda signed with a guessed secret (the real key id), and
 * with a key id the endpoint does not know; then by hand with `Signature=00`, the forgery the
 * endpoint once let through. Each must be refused with AWS's error type and status 403.
 */
export async function forgeLambdaInvokes(target: LambdaTarget, forged: { room: string; victim: string }, signature: AttackTally, unknownKey: AttackTally): Promise<void> {
  quietAwsSdkNodeWarning();
  const invokeWith = async (tally: AttackTally, accessKeyId: string, n: number) => {
    const client = new LambdaClient({ endpoint: target.endpoint, region: target.region, credentials: { accessKeyId, secretAccessKey: 'guessed-secret' }, maxAttempts: 1 });
    tally.attempts++;
    try {
      const r = await client.send(new InvokeCommand({ FunctionName: target.functionName, Payload: new TextEncoder().encode(forgedEnvelope(forged.room, forged.victim, n)) }));
      tally.accept(1, 1);
      tally.note(`an invoke signed with a guessed secret answered ${r.StatusCode ?? '?'}`);
    } catch (err) {
      const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
      tally.refuse(e.name ?? 'error');
      if (e.$metadata?.httpStatusCode !== 403) tally.note(`${e.name ?? 'error'} came with HTTP ${e.$metadata?.httpStatusCode ?? '?'}, not 403`);
    } finally {
      client.destroy();
    }
  };
  await invokeWith(signature, target.accessKeyId, 1);
  await invokeWith(unknownKey, `AKIAFORGED${Date.now().toString(36).toUpperCase()}`, 2);

  signature.attempts++;
  const amzDate = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const url = `${target.endpoint}/2015-03-31/functions/${encodeURIComponent(target.functionName)}/invocations`;
  const a = await httpRequest(url, 'POST', {
    'content-type': 'application/json',
    'x-amz-date': amzDate,
    authorization: `AWS4-HMAC-SHA256 Credential=${target.accessKeyId}/${amzDate.slice(0, 8)}/${target.region}/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=00`,
  }, forgedEnvelope(forged.room, forged.victim, 3));
  const type = a.headers['x-amzn-errortype'];
  if (a.status >= 200 && a.status < 300) (signature.accept(1, 1), signature.note(`Signature=00 answered ${a.status}`));
  else signature.refuse(typeof type === 'string' ? type.split(':')[0]! : `http-${a.status}`);
}
