/** One HTTP handler for the port: admin and health first, then Ably's REST API. */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RealtimeCore } from '../core.ts';
import { AblyError, Errors, isAblyError } from '../protocol/errors.ts';
import { adminRoute } from './admin.ts';
import { responseFormat, sendError } from './respond.ts';
import { restRoute } from './rest.ts';
import { sandboxRoute, type SandboxApps } from './sandbox.ts';

/**
 * `rootKey`: "appId.keyId:secret" of the app's first key, the only credential the fault controls accept.
 * `sandbox`: Ably's app provisioning API is served too (only when the service was started for it).
 */
export function httpHandler(core: RealtimeCore, metrics: () => Promise<string>, rootKey: string, sandbox?: SandboxApps) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://local');
    } catch {
      return sendError(res, Errors.badRequest('Invalid request URL'), 'json');
    }
    const fmt = responseFormat(req, url);
    const method = req.method ?? 'GET';
    const isAdmin = url.pathname.startsWith('/admin/');
    // Browsers call the REST API cross-origin, as they do Ably's; never the fault controls, which a web page must not reach.
    if (!isAdmin) cors(req, res);
    if (method === 'OPTIONS') {
      res.writeHead(204, { 'access-control-max-age': '600' });
      res.end();
      return;
    }
    const fail = (e: unknown) => {
      const err = isAblyError(e) ? e : Errors.internal('Internal error');
      if (!isAblyError(e)) core.log.error({ err: e, path: url.pathname }, 'unexpected error in an HTTP handler');
      core.stats.error(err.code);
      sendError(res, err, fmt);
    };
    try {
      const admin = adminRoute(method, url.pathname);
      if (admin === 'method') throw methodNotAllowed(method, url.pathname);
      if (admin) {
        core.stats.restRequest(url.pathname);
        if (isAdmin && !isRootKey(req.headers.authorization, rootKey)) {
          throw Errors.invalidCredentials('The admin API requires the root key (HTTP Basic auth with the app\'s first key)');
        }
        return void Promise.resolve(admin(core, url, res, metrics)).catch(fail);
      }
      // Raw segments: channel names are percent-decoded per segment, after splitting.
      const seg = url.pathname.split('/').slice(1);
      const sbx = sandbox ? sandboxRoute(method, seg) : undefined;
      if (sbx === 'method') throw methodNotAllowed(method, url.pathname);
      if (sbx && sandbox) {
        core.stats.restRequest('apps');
        return void sbx(core, sandbox, req, res, url).catch(fail);
      }
      const rest = restRoute(method, seg);
      if (rest === 'method') throw methodNotAllowed(method, url.pathname);
      if (!rest) throw Errors.notFound(`No such resource: ${method} ${url.pathname.slice(0, 200)}`);
      core.stats.restRequest(rest.name);
      rest.route(core, req, res, url, fmt, seg).catch(fail);
    } catch (e) {
      fail(e);
    }
  };
}

export function cors(req: IncomingMessage, res: ServerResponse): void {
  res.setHeader('access-control-allow-origin', req.headers.origin ?? '*');
  res.setHeader('access-control-allow-methods', 'GET, POST, PUT, PATCH, DELETE, OPTIONS');
  res.setHeader('access-control-allow-headers', req.headers['access-control-request-headers'] ?? 'authorization, content-type, accept, x-ably-version, ably-agent, x-ably-clientid');
  res.setHeader('access-control-expose-headers', 'link, x-ably-errorcode, x-ably-errormessage, x-ably-serverid');
  res.setHeader('access-control-allow-credentials', 'true');
  if (req.headers.origin) res.setHeader('vary', 'Origin');
}

function methodNotAllowed(method: string, path: string): AblyError {
  return Errors.methodNotAllowed(`Method ${method} not allowed on ${path.slice(0, 200)}`);
}

function isRootKey(header: string | undefined, rootKey: string): boolean {
  if (!header?.startsWith('Basic ')) return false;
  const given = Buffer.from(Buffer.from(header.slice(6).trim(), 'base64').toString('utf8'));
  const want = Buffer.from(rootKey);
  return given.length === want.length && timingSafeEqual(given, want);
}
