/**
 * One upstream instance and its pool of keep-alive connections (most recently used first).
 * Sockets are only ever closed by the proxy when idle: a connection with a request in flight
 * is never touched, except when the client of that request went away.
 *
 * A pooled connection idle for longer than the free-socket timeout is not reused (the
 * upstream may be closing it at that moment); it is closed when next met in the pool or by the
 * pool's sweep, whichever comes first. The sweep, one interval timer per pool while it has
 * connections, also applies the response timeout to the others: no timer per socket, which
 * Node would move on every read and write (about 1 % of the proxy's instructions).
 */
import net from 'node:net';
import type { Target } from '../shared/slot.js';
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
/**
 * The sweep runs this often, or more often for a short response timeout (a quarter of it); a
 * silent upstream is timed out at most three intervals after the timeout, never before it.
 */
const MAX_SWEEP_INTERVAL_MS = 1_000;

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
  private lastKeepAliveHint: string | undefined;
  private downUntil = 0;
  private sweepTimer: NodeJS.Timeout | undefined;
  private readonly sweepIntervalMs: number;
  /** See ConnectionOwner.now: set when a request takes a connection and at every sweep. */
  now = Date.now();

  constructor(
    readonly target: Target,
    private readonly timeouts: UpstreamTimeouts,
  ) {
    this.connect = connectWithTimeout(timeouts.connectMs);
    this.sweepIntervalMs = Math.max(10, Math.min(MAX_SWEEP_INTERVAL_MS, timeouts.responseMs / 4));
  }

  /** A pooled idle connection, or a new one (its writes queue until it connects). */
  acquire(): UpstreamConnection {
    const now = Date.now();
    this.now = now;
    for (let pooled = this.idle.pop(); pooled !== undefined; pooled = this.idle.pop()) {
      pooled.pooled = false;
      // Idle long enough that the upstream may be closing it: not worth the race.
      if (now - pooled.idleSince < this.freeSocketTimeoutMs) return pooled;
      pooled.socket.destroy();
    }
    const connection = openUpstreamConnection(this.connect, this.target, this);
    this.all.add(connection);
    this.startSweep();
    return connection;
  }

  release(connection: UpstreamConnection, reusable: boolean): void {
    const socket = connection.socket;
    if (!reusable || !this.keepIdleSockets || socket.destroyed || this.idle.length >= MAX_IDLE_CONNECTIONS) {
      socket.destroy();
      return;
    }
    connection.idleSince = Date.now();
    connection.pooled = true;
    this.idle.push(connection);
  }

  forget(connection: UpstreamConnection): void {
    this.all.delete(connection);
    const index = this.idle.indexOf(connection);
    if (index !== -1) this.idle.splice(index, 1);
    if (this.all.size === 0) this.stopSweep();
  }

  /** Closes pooled connections idle past the free-socket timeout; times out silent upstreams. */
  sweep(now: number): void {
    this.now = now;
    for (const connection of [...this.all]) {
      if (connection.pooled) {
        if (now - connection.idleSince >= this.freeSocketTimeoutMs) connection.socket.destroy();
      } else connection.checkResponseTimeout(now, this.timeouts.responseMs, this.sweepIntervalMs);
    }
  }

  private startSweep(): void {
    if (this.sweepTimer !== undefined) return;
    this.sweepTimer = setInterval(() => this.sweep(Date.now()), this.sweepIntervalMs);
    this.sweepTimer.unref();
  }

  private stopSweep(): void {
    clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
  }

  isUp(now: number): boolean {
    return now >= this.downUntil;
  }

  markDown(now: number): void {
    this.downUntil = now + PASSIVE_DOWN_MS;
  }

  /** An upstream's `Keep-Alive: timeout=N` tells us when it will close idle sockets; close ours earlier. */
  noteKeepAliveHint(value: string): void {
    // Node servers send the same hint on every response: read it once.
    if (value === this.lastKeepAliveHint) return;
    this.lastKeepAliveHint = value;
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
