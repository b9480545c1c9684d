/**
 * One upstream instance and its pool of keep-alive connections (most recently used first).
 * Sockets are only ever closed by the proxy when idle: a connection with a request in flight
 * is never touched, except when the client of that request went away.
 *
 * A pooled connection idle for longer than the free-socket timeout is not reused (the
 * upstream may be closing it at that moment); it is closed when next met in the pool, or by
 * the socket's own inactivity timeout, which stays at the response timeout so no code here
 * changes it per request. (Node itself still moves that timer on every read and write of the
 * socket: about 1 % of the proxy's instructions; a sweep over busy connections would avoid it.)
 */
import net from 'node:net';
import type { Target } from '../core/slot.js';
import { connectWithTimeout } from './timeouts.js';
import {
  openUpstreamConnection,
  type ConnectionOwner,
  type UpstreamConnection,
} from './upstream-connection.js';

/** Below the 5 s keep-alive timeout Node servers use by default, so we close first. */
const DEFAULT_FREE_SOCKET_TIMEOUT_MS = 4_000;
/** After a connection failure, skip the instance for this long when another one can serve. */
const PASSIVE_DOWN_MS = 2_000;
const MAX_IDLE_CONNECTIONS = 1024;

export interface UpstreamTimeouts {
  readonly connectMs: number;
  readonly responseMs: number;
}

export class Upstream implements ConnectionOwner {
  /** Requests currently sent to this instance and not yet answered in full. */
  inFlight = 0;
  private readonly idle: UpstreamConnection[] = [];
  private readonly all = new Set<UpstreamConnection>();
  private readonly connect: (options: net.NetConnectOpts) => net.Socket;
  private keepIdleSockets = true;
  private freeSocketTimeoutMs = DEFAULT_FREE_SOCKET_TIMEOUT_MS;
  private downUntil = 0;

  constructor(
    readonly target: Target,
    private readonly timeouts: UpstreamTimeouts,
  ) {
    this.connect = connectWithTimeout(timeouts.connectMs);
  }

  /** A pooled idle connection, or a new one (its writes queue until it connects). */
  acquire(): UpstreamConnection {
    const now = Date.now();
    for (let pooled = this.idle.pop(); pooled !== undefined; pooled = this.idle.pop()) {
      // Idle long enough that the upstream may be closing it: not worth the race.
      if (now - pooled.idleSince < this.freeSocketTimeoutMs) return pooled;
      pooled.socket.destroy();
    }
    const connection = openUpstreamConnection(this.connect, this.target, this, this.timeouts.responseMs);
    this.all.add(connection);
    return connection;
  }

  release(connection: UpstreamConnection, reusable: boolean): void {
    const socket = connection.socket;
    if (!reusable || !this.keepIdleSockets || socket.destroyed || this.idle.length >= MAX_IDLE_CONNECTIONS) {
      socket.destroy();
      return;
    }
    connection.idleSince = Date.now();
    this.idle.push(connection);
  }

  forget(connection: UpstreamConnection): void {
    this.all.delete(connection);
    const index = this.idle.indexOf(connection);
    if (index !== -1) this.idle.splice(index, 1);
  }

  isUp(now: number): boolean {
    return now >= this.downUntil;
  }

  markDown(now: number): void {
    this.downUntil = now + PASSIVE_DOWN_MS;
  }

  /** An upstream's `Keep-Alive: timeout=N` tells us when it will close idle sockets; close ours earlier. */
  noteKeepAliveHint(value: string): void {
    const match = /timeout=(\d+)/i.exec(value);
    if (!match) return;
    const hinted = Number(match[1]) * 1000 - 1000;
    if (hinted > 0 && hinted < this.freeSocketTimeoutMs) this.freeSocketTimeoutMs = hinted;
  }

  /** While draining, connections close as soon as their response completes instead of being pooled. */
  setKeepIdleSockets(keep: boolean): void {
    this.keepIdleSockets = keep;
  }

  /** Closes pooled connections that carry no request. Busy ones are left alone. */
  closeIdleSockets(): number {
    const idle = this.idle.splice(0);
    for (const connection of idle) connection.socket.destroy();
    return idle.length;
  }

  /** Connections, busy and idle, open to this instance. */
  openSockets(): number {
    return this.all.size;
  }

  destroy(): void {
    this.keepIdleSockets = false;
    for (const connection of this.all) connection.socket.destroy();
  }
}

export function sameTarget(a: Target, b: Target): boolean {
  return a.id === b.id && a.host === b.host && a.port === b.port;
}
