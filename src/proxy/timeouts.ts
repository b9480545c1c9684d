/**
 * The proxy's timeouts and the short answers it gives when the upstream fails. A connect
 * timeout is armed only on new upstream sockets (pooled ones are already connected), so the
 * keep-alive hot path pays nothing for it.
 */
import net from 'node:net';

export interface ProxyTimeouts {
  /** How long a client keep-alive connection may sit idle between requests. */
  readonly clientIdleMs: number;
  /** How long a client has to send a complete request head. */
  readonly headersMs: number;
  readonly upstreamConnectMs: number;
  /** How long the upstream may stay silent (before its response head, or between body chunks). */
  readonly upstreamResponseMs: number;
  /** The whole request body must arrive within this (408). */
  readonly bodyMs: number;
  /** A request body slower than this over a rate window, after the first, gets 408 (0 = no check). */
  readonly bodyMinBytesPerSecond: number;
  readonly bodyRateWindowMs: number;
}

export const UPSTREAM_CONNECT_TIMEOUT = 'CUTOVER_UPSTREAM_CONNECT_TIMEOUT';

export const PROXY_ANSWERS = {
  connectTimeout: { status: 502, body: 'upstream connect timeout\n' },
  connectFailed: { status: 502, body: 'upstream connection failed\n' },
  upstreamBroke: { status: 502, body: 'upstream closed the connection before answering\n' },
  badResponse: { status: 502, body: 'upstream sent a malformed response\n' },
  responseTimeout: { status: 504, body: 'upstream response timeout\n' },
  noInstance: { status: 503, body: 'no healthy instance\n' },
  noSlot: { status: 503, body: 'no slot receives traffic\n' },
} as const;

export type ProxyAnswer = (typeof PROXY_ANSWERS)[keyof typeof PROXY_ANSWERS];

/** A socket factory for http.Agent that fails the connection after `timeoutMs`. */
export function connectWithTimeout(timeoutMs: number) {
  return (options: net.NetConnectOpts): net.Socket => {
    const socket = net.createConnection(options);
    const timer = setTimeout(() => {
      const error = new Error(`upstream connect timeout after ${timeoutMs}ms`) as NodeJS.ErrnoException;
      error.code = UPSTREAM_CONNECT_TIMEOUT;
      socket.destroy(error);
    }, timeoutMs);
    socket.once('connect', () => clearTimeout(timer));
    socket.once('close', () => clearTimeout(timer));
    return socket;
  };
}
