/**
 * One keep-alive connection from the proxy to one upstream instance, carrying one request at
 * a time. The socket's listeners are bound once, for the life of the connection; each request
 * only swaps the Exchange they report to, so the hot path allocates little.
 */
import type { NetConnectOpts, Socket } from 'node:net';
import { ResponseParseError, ResponseParser, type ResponseHandler } from './response-parser.js';
import type { UpstreamHead } from './upstream-head.js';

export const UPSTREAM_CLOSED = 'CUTOVER_UPSTREAM_CLOSED';
export const UPSTREAM_RESPONSE_TIMEOUT = 'CUTOVER_UPSTREAM_RESPONSE_TIMEOUT';
export const UPSTREAM_BAD_RESPONSE = 'CUTOVER_UPSTREAM_BAD_RESPONSE';
/** Something threw while a read was handled (see forward.ts EXCHANGE_FAILED). */
const EXCHANGE_FAILED = 'CUTOVER_E_PROXY_EXCHANGE';

export interface FailureDetail {
  /** The socket had carried an earlier request (it may have been closed by the upstream while idle). */
  readonly reused: boolean;
  /** Some of the response had arrived. */
  readonly responseStarted: boolean;
}

/**
 * The request a connection is serving: it receives the response and the failures. Body
 * pieces passed to onBody are copies the exchange may keep; the `lastBody` passed to onEnd is
 * a view of READ_BUFFER, valid during that call only (a small last piece is usually copied
 * once anyway, into the client's head-and-body write).
 */
export interface Exchange extends ResponseHandler {
  onFailure(error: NodeJS.ErrnoException, detail: FailureDetail): void;
  /** The socket can take more request body. */
  onWritable(): void;
}

/** What a connection needs from its pool. */
export interface ConnectionOwner {
  /**
   * A clock (Date.now() ms) the pool moves when a request takes a connection and at every
   * sweep: reading it costs nothing per socket read, and it is never more than a sweep
   * interval behind while a connection is busy.
   */
  readonly now: number;
  release(connection: UpstreamConnection, reusable: boolean): void;
  forget(connection: UpstreamConnection): void;
}

const CHUNK_END = Buffer.from('\r\n');
const LAST_CHUNK = '0\r\n\r\n';

/**
 * Every upstream socket reads into this one buffer (net's `onread`): no buffer allocated and no
 * Readable stream step per read, a few per cent of the proxy's CPU. Its bytes are only valid
 * until the read callback returns, so whatever outlives it (a partial head, a body piece
 * handed to the client socket) is copied first. One buffer serves all sockets: read callbacks
 * run one at a time, on the one thread.
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/** Opens a socket that reports reads to the connection made for it, through READ_BUFFER. */
export function openUpstreamConnection(
  connect: (options: NetConnectOpts) => Socket,
  options: { readonly host: string; readonly port: number },
  owner: ConnectionOwner,
): UpstreamConnection {
  const socket = connect({
    host: options.host,
    port: options.port,
    onread: {
      buffer: READ_BUFFER,
      callback: (length: number, buffer: Uint8Array): boolean => {
        // Reads start after connecting, long after `connection` below is set.
        connection.received(buffer as Buffer, length);
        return true;
      },
    },
  });
  const connection = new UpstreamConnection(socket, owner);
  return connection;
}

export class UpstreamConnection implements ResponseHandler {
  private readonly parser = new ResponseParser();
  private exchange: Exchange | undefined;
  private requestComplete = true;
  private chunked = false;
  /** Body bytes the request head announced by Content-Length and not yet written. */
  private bodyRemaining = 0;
  private lastError: NodeJS.ErrnoException | undefined;
  /** Requests completed on this socket. */
  private served = 0;
  /** When the connection last went back to the pool (Date.now()). */
  idleSince = 0;
  /** In its pool's idle list (set and cleared by the pool). */
  pooled = false;
  /**
   * When (the owner's clock) the upstream last showed life for the request on this connection:
   * the request was sent, a piece of its body written, a piece of the response read, or
   * reading resumed after a pause. The pool's sweep reads it for the response timeout: no
   * timer per socket, which Node would move on every read and write.
   */
  private lastActivity = 0;
  /** Not reading: the client is slower than the upstream, whose silence is then not its fault. */
  private paused = false;

  constructor(
    readonly socket: Socket,
    private readonly owner: ConnectionOwner,
  ) {
    socket.setNoDelay(true);
    socket.on('end', () => this.onUpstreamEnd());
    socket.on('error', (error: NodeJS.ErrnoException) => (this.lastError = error));
    socket.on('close', () => this.onClose());
    socket.on('drain', () => this.exchange?.onWritable());
  }

  get busy(): boolean {
    return this.exchange !== undefined;
  }

  /**
   * Sends a request head; the body, if any, follows with writeBody()/endBody(). For a 'length'
   * body, `contentLength` is the length the head announced: exactly that many bytes are sent.
   */
  send(
    head: string,
    exchange: Exchange,
    headRequest: boolean,
    body: 'none' | 'length' | 'chunked',
    contentLength = 0,
  ): void {
    this.exchange = exchange;
    this.lastActivity = this.owner.now;
    this.requestComplete = body === 'none';
    this.chunked = body === 'chunked';
    this.bodyRemaining = body === 'length' ? contentLength : 0;
    this.lastError = undefined;
    this.parser.expect(this, headRequest);
    this.socket.write(head, 'latin1');
  }

  /** Returns false when the socket buffer is full: wait for Exchange.onWritable(). */
  writeBody(chunk: Buffer): boolean {
    if (chunk.length === 0) return true;
    this.lastActivity = this.owner.now;
    if (!this.chunked) {
      // Never more than the head announced: a byte past it would start the upstream's next request.
      if (chunk.length > this.bodyRemaining) {
        this.bodyBroken();
        return true;
      }
      this.bodyRemaining -= chunk.length;
      return this.socket.write(chunk);
    }
    this.socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
    this.socket.write(chunk);
    return this.socket.write(CHUNK_END);
  }

  /** A Content-Length body of which fewer bytes were written than its head announced. */
  bodyShort(): boolean {
    return !this.chunked && this.bodyRemaining > 0;
  }

  endBody(): void {
    if (this.chunked) this.socket.write(LAST_CHUNK, 'latin1');
    else if (this.bodyRemaining > 0) {
      this.bodyBroken();
      return;
    }
    this.requestComplete = true;
    if (this.exchange === undefined && this.parser.idle) this.owner.release(this, true);
  }

  /**
   * The body did not match the length its head announced (a client's HTTP/2 stream that broke
   * its content-length): the connection, no longer in step with the upstream, closes.
   */
  private bodyBroken(): void {
    this.bodyRemaining = 0;
    this.fail(withCode('the request body did not match its Content-Length', UPSTREAM_CLOSED));
    this.socket.destroy();
  }

  /** The client went away mid-exchange: the socket is in an unknown state, close it. */
  abort(): void {
    this.exchange = undefined;
    this.socket.destroy();
  }

  pause(): void {
    this.paused = true;
    this.socket.pause();
  }

  resume(): void {
    this.paused = false;
    this.lastActivity = this.owner.now;
    this.socket.resume();
  }

  // ResponseHandler: the parser reports here, the connection passes it on.
  onHead(head: UpstreamHead): void {
    this.exchange?.onHead(head);
  }

  onBody(chunk: Buffer): void {
    // A view of READ_BUFFER: the client socket may still hold it after this call.
    this.exchange?.onBody(Buffer.from(chunk));
  }

  onEnd(reusable: boolean, lastBody?: Buffer): void {
    const exchange = this.exchange;
    this.exchange = undefined;
    this.served += 1;
    // An early answer while the request body is still being sent: reuse only once it is all sent.
    if (this.requestComplete || !reusable) this.owner.release(this, reusable);
    exchange?.onEnd(reusable, lastBody);
  }

  /** `length` new bytes at the start of `buffer` (READ_BUFFER), valid during this call only. */
  received(buffer: Buffer, length: number): void {
    this.lastActivity = this.owner.now;
    try {
      this.onData(buffer.subarray(0, length));
    } catch (error) {
      // Thrown while passing the response on (a bug, or a header the client's protocol
      // refuses): this exchange ends with a 502 or a cut stream, and its connection closes.
      this.fail(withCode(error instanceof Error ? error.message : String(error), EXCHANGE_FAILED, error));
      this.socket.destroy();
    }
  }

  /**
   * The response timeout, checked by the pool's sweep: a connection out of the pool (a request
   * on it, or the rest of a request body after an early answer) whose upstream has been silent
   * for `timeoutMs` while we were reading fails its request with a 504 and closes. `slack`: how
   * far behind the owner's clock may have been when the last activity was noted.
   */
  checkResponseTimeout(now: number, timeoutMs: number, slack: number): void {
    if (this.pooled || this.paused || now - this.lastActivity < timeoutMs + slack) return;
    this.onTimeout();
  }

  private onData(chunk: Buffer): void {
    if (this.exchange === undefined) {
      // Bytes on an idle socket: the upstream is out of step; never reuse it.
      this.socket.destroy();
      return;
    }
    try {
      this.parser.push(chunk);
      if (this.parser.overrun) this.socket.destroy();
    } catch (error) {
      if (!(error instanceof ResponseParseError)) throw error;
      this.fail(withCode(error.message, UPSTREAM_BAD_RESPONSE));
      this.socket.destroy();
    }
  }

  private onUpstreamEnd(): void {
    if (this.exchange !== undefined && !this.parser.closed()) {
      this.fail(withCode('upstream closed the connection mid-response', UPSTREAM_CLOSED));
    }
  }

  private onClose(): void {
    if (this.exchange !== undefined) {
      const cause = this.lastError ?? withCode('upstream closed the connection', UPSTREAM_CLOSED);
      this.fail(cause);
    }
    this.owner.forget(this);
  }

  private onTimeout(): void {
    if (this.exchange !== undefined) {
      this.fail(withCode('upstream response timeout', UPSTREAM_RESPONSE_TIMEOUT));
    }
    this.socket.destroy();
  }

  private fail(error: NodeJS.ErrnoException): void {
    const exchange = this.exchange;
    if (exchange === undefined) return;
    this.exchange = undefined;
    exchange.onFailure(error, { reused: this.served > 0, responseStarted: this.parser.started });
  }
}

function withCode(message: string, code: string, cause?: unknown): NodeJS.ErrnoException {
  const error = new Error(message, cause === undefined ? undefined : { cause }) as NodeJS.ErrnoException;
  error.code = code;
  return error;
}
