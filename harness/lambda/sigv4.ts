/**
 * Verifies AWS Signature Version 4 on an incoming request the way AWS's front door does for Lambda:
 * an unknown key, a signature that does not match, a scope for another region or service, and a
 * clock more than 5 minutes off are each refused with the error type AWS returns, so a client that
 * works here signs correctly for AWS too (and a forged request cannot pass by naming the key id).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export interface SigV4Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface SigV4Request {
  method: string;
  /** The request target as it came on the wire: path and query, still percent-encoded. */
  rawUrl: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export type SigV4Refusal = { status: 403 | 400; errorType: string; message: string };

const ALGORITHM = 'AWS4-HMAC-SHA256';
const MAX_SKEW_MS = 5 * 60_000;
const AUTH_RE = /^AWS4-HMAC-SHA256\s+Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-fA-F]+)\s*$/;
const MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

export function verifySigV4(
  req: SigV4Request,
  opts: { credentials: SigV4Credentials; region: string; service: string; now?: number },
): SigV4Refusal | undefined {
  const auth = header(req.headers, 'authorization');
  if (!auth) return { status: 403, errorType: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' };
  const m = AUTH_RE.exec(auth);
  if (!m) return { status: 400, errorType: 'IncompleteSignatureException', message: `Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters with ${ALGORITHM}.` };
  const [keyId, date, region, service, terminator] = m[1]!.split('/');
  if (keyId !== opts.credentials.accessKeyId) {
    return { status: 403, errorType: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' };
  }
  if (terminator !== 'aws4_request' || !date || !region || !service) {
    return { status: 403, errorType: 'InvalidSignatureException', message: `Credential should be scoped to a valid terminator: 'aws4_request'.` };
  }
  if (region !== opts.region) return { status: 403, errorType: 'InvalidSignatureException', message: `Credential should be scoped to a valid region.` };
  if (service !== opts.service) {
    return { status: 403, errorType: 'InvalidSignatureException', message: `Credential should be scoped to correct service: '${opts.service}'.` };
  }
  const amzDate = header(req.headers, 'x-amz-date');
  const at = amzDate ? parseAmzDate(amzDate) : undefined;
  if (!amzDate || at === undefined) {
    return { status: 400, errorType: 'IncompleteSignatureException', message: `Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.` };
  }
  const skew = refuseSkew(amzDate, at, opts.now ?? Date.now());
  if (skew) return skew;
  if (!amzDate.startsWith(date)) return { status: 403, errorType: 'InvalidSignatureException', message: `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${date}' != '${amzDate.slice(0, 8)}', from '${amzDate}'.` };
  const signed = m[2]!.split(';');
  if (!signed.includes('host')) return { status: 403, errorType: 'InvalidSignatureException', message: `'Host' must be a 'SignedHeader' in the AWS Authorization.` };
  const bodyHash = sha256(req.body);
  const claimed = header(req.headers, 'x-amz-content-sha256');
  if (claimed && claimed !== 'UNSIGNED-PAYLOAD' && claimed !== bodyHash) {
    return { status: 400, errorType: 'InvalidSignatureException', message: 'The provided x-amz-content-sha256 header does not match what was computed.' };
  }
  const canonical = canonicalRequest(req, signed, claimed ?? bodyHash);
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = [ALGORITHM, amzDate, scope, sha256(canonical)].join('\n');
  const expected = hmac(signingKey(opts.credentials.secretAccessKey, date, region, service), toSign).toString('hex');
  return sameHex(expected, m[3]!.toLowerCase()) ? undefined : { status: 403, errorType: 'InvalidSignatureException', message: MISMATCH };
}

function refuseSkew(amzDate: string, at: number, now: number): SigV4Refusal | undefined {
  const fmt = (ms: number) => new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  if (at < now - MAX_SKEW_MS) {
    return { status: 403, errorType: 'InvalidSignatureException', message: `Signature expired: ${amzDate} is now earlier than ${fmt(now - MAX_SKEW_MS)} (${fmt(now)} - 5 min.)` };
  }
  if (at > now + MAX_SKEW_MS) {
    return { status: 403, errorType: 'InvalidSignatureException', message: `Signature not yet current: ${amzDate} is still later than ${fmt(now + MAX_SKEW_MS)} (${fmt(now)} + 5 min.)` };
  }
  return undefined;
}

function canonicalRequest(req: SigV4Request, signed: string[], payloadHash: string): string {
  const q = req.rawUrl.indexOf('?');
  const rawPath = q < 0 ? req.rawUrl : req.rawUrl.slice(0, q);
  const rawQuery = q < 0 ? '' : req.rawUrl.slice(q + 1);
  const headers = signed.map((name) => `${name}:${canonicalHeaderValue(req.headers[name])}\n`).join('');
  return [req.method, canonicalPath(rawPath), canonicalQuery(rawQuery), headers, signed.join(';'), payloadHash].join('\n');
}

// Non-S3 services sign the path encoded twice: the wire form (already encoded once) is escaped again.
function canonicalPath(rawPath: string): string {
  const segments: string[] = [];
  for (const s of rawPath.split('/')) {
    if (s === '' || s === '.') continue;
    if (s === '..') segments.pop();
    else segments.push(s);
  }
  const path = `/${segments.join('/')}${rawPath.endsWith('/') && segments.length > 0 ? '/' : ''}`;
  return escape(path).replace(/%2F/g, '/');
}

function canonicalQuery(rawQuery: string): string {
  if (!rawQuery) return '';
  const pairs = rawQuery
    .split('&')
    .filter((p) => p.length > 0)
    .map((p) => {
      const i = p.indexOf('=');
      const k = decode(i < 0 ? p : p.slice(0, i));
      const v = i < 0 ? '' : decode(p.slice(i + 1));
      return [escape(k), escape(v)] as const;
    });
  pairs.sort((a, b) => (a[0] === b[0] ? cmp(a[1], b[1]) : cmp(a[0], b[0])));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

function canonicalHeaderValue(v: string | string[] | undefined): string {
  const joined = Array.isArray(v) ? v.join(',') : (v ?? '');
  return joined.trim().replace(/\s+/g, ' ');
}

function escape(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, '%20'));
  } catch {
    return s;
  }
}

function parseAmzDate(s: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) return undefined;
  const t = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
  return Number.isFinite(t) ? t : undefined;
}

function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function sameHex(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function header(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}
