/**
 * The proxy's own HTTP/1.1 server on plain net sockets. node:http's server side (IncomingMessage,
 * ServerResponse, their streams and per-request objects) cost more CPU per proxied request than
 * everything else the proxy does; this server does only what a reverse proxy needs: strict
 * parsing (request-head.ts, chunked-decoder.ts), keep-alive, pipelining one request at a time,
 * Expect: 100-continue, protocol upgrades, a header timeout (408), request body limits (408, see
 * body-deadline.ts) and an idle timeout. The timeouts are checked by one sweep over the
 * connections, so a request arms no timer.
 */
import net from 'node:net';
import type { BodyLimits } from '../body-deadline.js';
import { Http1Connection, type ConnectionHost, type Http1Handlers } from './http1-connection.js';

export interface Http1ServerOptions {
  /** How long a client has to send a complete request head. */
  readonly headersMs: number;
  /** How long a keep-alive connection may sit idle between requests. */
  readonly idleMs: number;
  /** How long a request body may take, and how slowly it may arrive (408 past either). */
  readonly body: BodyLimits;
}

export class Http1Server implements ConnectionHost {
  readonly server: net.Server;
  readonly keepAliveHint: string;
  closing = false;
  /** Closing with a linger (close(onClosed, lingerMs)): connections still arriving are served. */
  lingering = false;
  private readonly connections = new Set<Http1Connection>();
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly handlers: Http1Handlers,
    private readonly options: Http1ServerOptions,
  ) {
    this.keepAliveHint = `timeout=${Math.max(1, Math.floor(options.idleMs / 1000))}`;
    // Half-open: a client that shuts its sending side after a request still gets the answer.
    this.server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => this.accept(socket));
    this.server.on('listening', () => this.startSweep());
    this.server.on('close', () => clearInterval(this.sweepTimer));
  }

  forget(connection: Http1Connection): void {
    this.connections.delete(connection);
  }

  /**
   * Stops accepting; idle connections close now, busy ones after their response. With
   * `lingerMs`, an idle keep-alive connection is closed only once it has been idle that long:
   * a client that keeps sending gets its next answer with `Connection: close` instead of a
   * close racing its request (a proxy worker handing over to a newer one).
   */
  close(onClosed: () => void, lingerMs = 0): void {
    this.closing = true;
    this.lingering = lingerMs > 0;
    this.server.close(() => onClosed());
    if (lingerMs <= 0) {
      this.closeIdleConnections();
      return;
    }
    const check = (): void => {
      const now = Date.now();
      for (const connection of this.connections) {
        if (connection.state === 'idle' && now - connection.waitingSince >= lingerMs)
          connection.closeIfIdle();
      }
    };
    const timer = setInterval(check, Math.min(100, lingerMs));
    timer.unref();
    this.server.once('close', () => clearInterval(timer));
    check();
  }

  closeIdleConnections(): void {
    for (const connection of this.connections) connection.closeIfIdle();
  }

  closeAllConnections(): void {
    for (const connection of this.connections) connection.socket.destroy();
  }

  private accept(socket: net.Socket): void {
    // No remote address: the peer reset the connection before it was accepted; whatever it
    // sent before that is not served.
    // A connection libuv accepted in the same turn as the close: refused on a plain shutdown,
    // served (with Connection: close) when lingering, since its client cannot tell it apart
    // from one the successor accepted.
    if ((this.closing && !this.lingering) || socket.remoteAddress === undefined) {
      socket.destroy();
      return;
    }
    this.connections.add(new Http1Connection(socket, this));
  }

  private startSweep(): void {
    const { headersMs, idleMs, body } = this.options;
    const shortest = Math.min(headersMs, idleMs, body.timeoutMs, body.rateWindowMs);
    const interval = Math.max(100, Math.min(1_000, Math.floor(shortest / 2)));
    clearInterval(this.sweepTimer);
    this.sweepTimer = setInterval(() => {
      const now = Date.now();
      for (const connection of this.connections) {
        const waited = now - connection.waitingSince;
        try {
          if (connection.state === 'head' && waited >= headersMs) connection.headerTimeout();
          else if (connection.state === 'idle' && waited >= idleMs) connection.closeIfIdle();
          else if (connection.writeBlocked && waited >= idleMs) connection.sendTimeout();
          else if (connection.state === 'request') connection.checkBody(now, body);
        } catch (error) {
          connection.failed(error);
        }
      }
    }, interval);
    this.sweepTimer.unref();
  }
}
