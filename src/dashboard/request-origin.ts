/**
 * Which origin a browser must be on to use the dashboard. The admin listener's own origin is
 * the scheme plus the Host header, and the Host header itself must name this listener's port —
 * on a loopback spelling unless `admin.allowRemote` is on, so a page of another site whose DNS
 * name was pointed at 127.0.0.1 (DNS rebinding) is refused too.
 */
import type { IncomingMessage } from 'node:http';

export interface ListenerIdentity {
  readonly port: number;
  readonly tls: boolean;
  readonly allowRemote: boolean;
}

const LOOPBACK_HOSTS = /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;

/** `host` and `port` of a Host header; undefined when it is malformed. */
function splitHost(header: string): { host: string; port: number | undefined } | undefined {
  const match = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::(\d{1,5}))?$/i.exec(header);
  if (!match) return undefined;
  return { host: match[1]!, port: match[2] === undefined ? undefined : Number(match[2]) };
}

/** The origin this request's page has, when its Host header names this listener; else undefined. */
export function ownOrigin(request: IncomingMessage, listener: ListenerIdentity): string | undefined {
  const header = request.headers.host;
  if (header === undefined || header.length > 260) return undefined;
  const parsed = splitHost(header);
  if (!parsed) return undefined;
  const defaultPort = listener.tls ? 443 : 80;
  if ((parsed.port ?? defaultPort) !== listener.port) return undefined;
  if (!listener.allowRemote && !LOOPBACK_HOSTS.test(parsed.host)) return undefined;
  return `${listener.tls ? 'https' : 'http'}://${header.toLowerCase()}`;
}

/** A state-changing request must carry an Origin header equal to the listener's own origin. */
export function sameOrigin(request: IncomingMessage, listener: ListenerIdentity): boolean {
  const expected = ownOrigin(request, listener);
  const given = request.headers.origin;
  return expected !== undefined && typeof given === 'string' && given.toLowerCase() === expected;
}
