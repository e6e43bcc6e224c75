/**
 * Links between parts of the stack that can be routed through the harness's own TCP proxy, so
 * the nemesis can add latency or jitter to them or cut them. A link exists only when a run asks
 * for it (the stack then points the client side at the proxy); unused links cost nothing.
 */
import { startTcpProxy, type StartedProxy } from '../lib/tcp-proxy.ts';

export const LINKS = {
  'connector-db': 'connector -> Postgres',
  'writer-db': 'chat-writer Lambda -> Postgres',
  'connector-realtime': 'connector -> realtime service',
  'clients-realtime': 'virtual users -> realtime service (WebSocket)',
  'clients-functions': 'virtual users -> login, token and history functions (HTTP)',
} as const;

export type LinkName = keyof typeof LINKS;
export const LINK_NAMES = Object.keys(LINKS) as LinkName[];

export function isLinkName(s: string): s is LinkName {
  return (LINK_NAMES as string[]).includes(s);
}

export type StartedLinks = Partial<Record<LinkName, StartedProxy>>;

/** Starts a proxy for `link` in front of `target` when the run asked for that link. */
export async function maybeProxy(wanted: readonly LinkName[], link: LinkName, target: { host: string; port: number }, links: StartedLinks): Promise<{ host: string; port: number }> {
  if (!wanted.includes(link)) return target;
  const p = await startTcpProxy(target);
  links[link] = p;
  return { host: p.host, port: p.port };
}

/** The same URL, with host and port replaced (a database or HTTP URL through a proxy). */
export function viaProxy(url: string, to: { host: string; port: number }): string {
  const u = new URL(url);
  u.hostname = to.host;
  u.port = String(to.port);
  return u.toString();
}
