/**
 * The HTTP event and result shapes of API Gateway's HTTP API (payload format 2.0), which is what
 * these handlers receive on AWS. The local server builds the same events from node requests.
 */
import pg from 'pg';

export interface HttpEvent {
  rawPath: string;
  rawQueryString?: string;
  /** Lower-case header names. */
  headers: Record<string, string | undefined>;
  queryStringParameters?: Record<string, string | undefined>;
  pathParameters?: Record<string, string | undefined>;
  cookies?: string[];
  body?: string | null;
  isBase64Encoded?: boolean;
  requestContext: { http: { method: string } };
}

export interface HttpResult {
  statusCode: number;
  headers?: Record<string, string>;
  cookies?: string[];
  body?: string;
}

export type HttpHandler = (event: HttpEvent) => Promise<HttpResult>;

export function json(statusCode: number, body: unknown, extra: Omit<HttpResult, 'statusCode' | 'body'> = {}): HttpResult {
  return {
    ...extra,
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...(extra.headers ?? {}) },
    body: JSON.stringify(body),
  };
}

/** Errors name the field at fault and what was expected. */
export function fail(statusCode: number, field: string, message: string): HttpResult {
  return json(statusCode, { error: { field, message } });
}

/** Cookies from API Gateway's `cookies` array or a plain Cookie header. */
export function readCookies(event: HttpEvent): Map<string, string> {
  const out = new Map<string, string>();
  const parts = [...(event.cookies ?? []), ...(event.headers.cookie ?? '').split(';')];
  for (const part of parts) {
    const i = part.indexOf('=');
    if (i <= 0) continue;
    const k = part.slice(0, i).trim();
    if (k && !out.has(k)) out.set(k, part.slice(i + 1).trim());
  }
  return out;
}

export function bodyText(event: HttpEvent): string {
  if (!event.body) return '';
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
}

/**
 * An AWS Lambda entry point for a handler that reads the database: the pool is made on the first
 * invocation and lives across the invocations of a warm container.
 */
export function databaseEntry(make: (pool: pg.Pool) => HttpHandler): HttpHandler {
  let shared: HttpHandler | undefined;
  return async (event) => {
    if (!shared) {
      const databaseUrl = process.env.DATABASE_URL;
      if (!databaseUrl) throw new Error('DATABASE_URL is not set');
      const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
      pool.on('error', () => {});
      shared = make(pool);
    }
    return shared(event);
  };
}
