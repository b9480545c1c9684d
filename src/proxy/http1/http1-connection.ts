/**
 * One client connection of the proxy's HTTP/1.1 server: reads request heads and bodies off the
 * socket, hands each request to the server's handler, and serves pipelined requests one at a
 * time (bytes of the next request wait, with the socket paused, until the current response
 * has been written). Any framing the parser refuses is answered with its status and the
 * connection closes: after a framing error nothing more on it can be trusted.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { BodyProgress, type BodyLimits } from '../body-deadline.js';
import { closingAnswer } from '../closing-answer.js';
import { ChunkedDecoder, type ChunkSink } from './chunked-decoder.js';
import { ClientHttpError } from './client-http-error.js';
import { Http1Request } from './http1-request.js';
import { Http1Response, type ResponseOwner } from './http1-response.js';
import { checkHeadBytes, MAX_HEAD_BYTES, parseRequestHead, type RequestHead } from './request-head.js';

export interface Http1Handlers {
  onRequest(request: Http1Request, response: Http1Response): void;
  /** The socket now belongs to the handler; `head` holds the bytes that followed the request head. */
  onUpgrade(request: Http1Request, socket: Socket, head: Buffer): void;
  /** Something threw while a connection's event was handled; that connection has been closed. */
  onError(error: unknown): void;
}

/** What a connection needs from its server. */
export interface ConnectionHost {
  readonly handlers: Http1Handlers;
  readonly keepAliveHint: string;
  /** The server is shutting down: answer the request in progress with Connection: close. */
  readonly closing: boolean;
  /**
   * Shutting down with a linger: a response that already promised keep-alive keeps it (the
   * client may reuse the connection at once); its next request is answered with Connection: close.
   */
  readonly lingering: boolean;
  forget(connection: Http1Connection): void;
}

/** 'idle': between requests; 'head': part of a request head has arrived; 'request': one is being served. */
type State = 'idle' | 'head' | 'request' | 'closed';

const CRLFCRLF = Buffer.from('\r\n\r\n');
const NOTHING_AFTER = Buffer.alloc(0);

export class Http1Connection implements ChunkSink, ResponseOwner {
  state: State = 'idle';
  /**
   * Date.now() when the current wait began: idle since, the head's first byte, or (while
   * `writeBlocked`) when a response began waiting for the client to read.
   */
  waitingSince = Date.now();
  /** The response's last write filled the socket's buffer and it has not drained since. */
  writeBlocked = false;
  private buffered: Buffer | undefined;
  private request: Http1Request | undefined;
  private response: Http1Response | undefined;
  private bodyRemaining = 0;
  private decoder: ChunkedDecoder | undefined;
  /** How the current request's body is arriving, for the server's body-deadline sweep. */
  private bodyProgress: BodyProgress | undefined;
  private pausedForNext = false;
  private clientEnded = false;
  private lingering = false;
  // Each socket event is guarded: an exception while serving one connection closes it (and,
  // through its response's 'close', the upstream request behind it), never the process.
  private readonly onData = (chunk: Buffer): void => {
    try {
      this.received(chunk);
    } catch (error) {
      this.failed(error);
    }
  };
  private readonly onDrain = (): void => {
    this.writeBlocked = false;
    try {
      this.response?.drained();
    } catch (error) {
      this.failed(error);
    }
  };
  private readonly onEnd = (): void => {
    try {
      this.clientFinished();
    } catch (error) {
      this.failed(error);
    }
  };
  private readonly onClose = (): void => {
    try {
      this.closed();
    } catch (error) {
      this.host.handlers.onError(error);
    }
  };
  private readonly remoteAddress: string | undefined;

  constructor(
    readonly socket: Socket,
    private readonly host: ConnectionHost,
  ) {
    this.remoteAddress = socket.remoteAddress;
    socket.on('data', this.onData);
    socket.on('drain', this.onDrain);
    socket.on('end', this.onEnd);
    socket.on('close', this.onClose);
    // 'close' follows every error; the error itself needs no handling here.
    socket.on('error', ignore);
  }

  /** Something threw while this connection was served: it closes, and the error is reported. */
  failed(error: unknown): void {
    this.state = 'closed';
    this.buffered = undefined;
    this.socket.destroy();
    this.host.handlers.onError(error);
  }

  /** Closes the connection if no request is on it (server shutdown, idle timeout). */
  closeIfIdle(): void {
    if (this.state === 'idle' || this.state === 'head') this.socket.destroy();
  }

  /**
   * The client has read nothing of its response for the idle timeout: close. Otherwise a
   * reader that stalls would hold its response, and the upstream connection behind it, forever.
   */
  sendTimeout(): void {
    if (this.state === 'request' && this.writeBlocked) this.socket.destroy();
  }

  /** Checked by the server's sweep: a request body past its deadline or under its rate gets 408, then the connection closes. */
  checkBody(now: number, limits: BodyLimits): void {
    const progress = this.bodyProgress;
    if (this.state !== 'request' || progress === undefined || this.request?.complete !== false) return;
    const overdue = progress.overdue(now, limits, this.socket.isPaused());
    if (overdue !== undefined) this.refuse(new ClientHttpError(408, overdue));
  }

  /** The header timeout passed: answer 408 and close. */
  headerTimeout(): void {
    if (this.state === 'head')
      this.refuse(new ClientHttpError(408, 'the request head did not arrive in time'));
  }

  // ── reading ────────────────────────────────────────────────────────────────

  private received(chunk: Buffer): void {
    switch (this.state) {
      case 'request':
        if (this.request!.complete) this.holdForNext(chunk);
        else this.feedBody(chunk);
        return;
      case 'idle':
      case 'head':
        this.buffered = this.buffered === undefined ? chunk : Buffer.concat([this.buffered, chunk]);
        this.readHead();
        return;
      case 'closed':
        return;
    }
  }

  /** Bytes of a pipelined request: kept until the current response has been written. */
  private holdForNext(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.buffered = this.buffered === undefined ? chunk : Buffer.concat([this.buffered, chunk]);
    if (!this.pausedForNext) {
      this.pausedForNext = true;
      this.socket.pause();
    }
  }

  private readHead(): void {
    const data = this.buffered!;
    let start = 0;
    // Empty lines before a request line are allowed (RFC 9112 §2.2).
    while (start + 1 < data.length && data[start] === 13 && data[start + 1] === 10) start += 2;
    const end = data.indexOf(CRLFCRLF, start);
    let head: RequestHead;
    try {
      if ((end === -1 ? data.length : end) - start > MAX_HEAD_BYTES)
        throw new ClientHttpError(431, 'request head too large');
      if (end === -1) {
        // A bare LF is refused now, not at the header timeout; a trailing CR may be half a CRLF.
        checkHeadBytes(
          data.toString('latin1', start, data[data.length - 1] === 13 ? data.length - 1 : data.length),
        );
        this.keepPartialHead(start === 0 ? data : data.subarray(start));
        return;
      }
      head = parseRequestHead(data.toString('latin1', start, end));
    } catch (error) {
      if (!(error instanceof ClientHttpError)) throw error;
      this.refuse(error);
      return;
    }
    this.buffered = undefined;
    // Most requests end with their read: no view of nothing per request.
    this.begin(head, end + 4 === data.length ? NOTHING_AFTER : data.subarray(end + 4));
  }

  /** Part of a head has arrived: keep it, and start the header timeout at its first byte. */
  private keepPartialHead(partial: Buffer): void {
    if (partial.length === 0) {
      this.buffered = undefined;
      return;
    }
    this.buffered = partial;
    if (this.state === 'idle') {
      this.state = 'head';
      this.waitingSince = Date.now();
    }
  }

  private begin(head: RequestHead, rest: Buffer): void {
    const socket = this.socket;
    const request = new Http1Request(head, socket, this.remoteAddress);
    this.state = 'request';
    this.request = request;
    if (head.upgrade) {
      this.detach();
      this.host.handlers.onUpgrade(request, socket, rest);
      return;
    }
    const response = new Http1Response(
      socket,
      this,
      head.method === 'HEAD',
      head.httpVersionMinor,
      head.keepAlive && !this.host.closing && !this.clientEnded,
      this.host.keepAliveHint,
    );
    this.response = response;
    if (!request.complete) this.bodyProgress = new BodyProgress(Date.now());
    if (head.body === 'length') this.bodyRemaining = head.contentLength;
    else if (head.body === 'chunked') this.decoder = new ChunkedDecoder(this);
    if (head.expectContinue && head.body !== 'none' && head.httpVersionMinor === 1)
      socket.write('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');
    // A pipelined request is set aside before the handler runs: it may answer at once.
    if (request.complete && rest.length > 0) this.holdForNext(rest);
    this.host.handlers.onRequest(request, response);
    if (!request.complete && rest.length > 0 && this.state === 'request') this.feedBody(rest);
  }

  /** The request being answered has been read to its end (ResponseOwner). */
  get requestComplete(): boolean {
    return this.request?.complete ?? true;
  }

  private feedBody(chunk: Buffer): void {
    const progress = this.bodyProgress;
    if (progress !== undefined) progress.bytes += chunk.length;
    if (this.decoder !== undefined) {
      try {
        this.decoder.push(chunk);
      } catch (error) {
        if (!(error instanceof ClientHttpError)) throw error;
        this.refuse(error);
      }
      return;
    }
    const take = Math.min(this.bodyRemaining, chunk.length);
    this.bodyRemaining -= take;
    this.onBodyData(take === chunk.length ? chunk : chunk.subarray(0, take));
    if (this.bodyRemaining === 0) this.onBodyEnd(chunk.subarray(take));
  }

  // ChunkSink (also used for Content-Length bodies)
  onBodyData(chunk: Buffer): void {
    if (chunk.length > 0) this.request?.bodyData(chunk);
  }

  onBodyEnd(rest: Buffer): void {
    const request = this.request;
    if (request === undefined) return;
    this.decoder = undefined;
    this.bodyProgress = undefined;
    request.complete = true;
    request.bodyEnd();
    if (rest.length > 0) this.holdForNext(rest);
  }

  // ── writing ────────────────────────────────────────────────────────────────

  onWriteBlocked(): void {
    if (this.writeBlocked) return;
    this.writeBlocked = true;
    this.waitingSince = Date.now();
  }

  onResponseEnd(response: Http1Response, keepAlive: boolean): void {
    if (response !== this.response) return;
    this.response = undefined;
    // An answer given before the request body ended (an upstream's early 413, a 503 with no
    // slot) closes the connection rather than wait, untimed, for a body nobody reads.
    if (
      !keepAlive ||
      this.clientEnded ||
      (this.host.closing && !this.host.lingering) ||
      !this.request!.complete
    ) {
      this.finishAndClose();
      return;
    }
    this.next();
  }

  /** Starts on the next request, after the current call stack (the upstream's callbacks) unwinds. */
  private next(): void {
    this.request = undefined;
    this.writeBlocked = false;
    this.state = 'idle';
    this.waitingSince = Date.now();
    if (this.buffered === undefined) {
      this.resumeReading();
      return;
    }
    process.nextTick(() => {
      if (this.state !== 'idle' || this.buffered === undefined) return;
      this.readHead();
      // Stay paused only while a further pipelined request waits behind this one.
      if ((this.state as State) !== 'request' || this.buffered === undefined) this.resumeReading();
    });
  }

  private resumeReading(): void {
    if (!this.pausedForNext) return;
    this.pausedForNext = false;
    this.socket.resume();
  }

  /** Answers a refused request with its status, then closes. */
  private refuse(error: ClientHttpError): void {
    const socket = this.socket;
    const state = this.state;
    this.state = 'closed';
    this.buffered = undefined;
    if (this.response?.headersSent === true || socket.destroyed || state === 'closed') {
      socket.destroy();
      return;
    }
    // A request whose body turned out malformed, or missed its limits, is over: its forwarding
    // stops now, and it is recorded with the status it was answered.
    const response = this.response;
    this.response = undefined;
    response?.refused(error.status);
    const reason = STATUS_CODES[error.status] ?? 'Bad Request';
    socket.write(closingAnswer(error.status, `${reason.toLowerCase()}: ${error.message}\n`), 'latin1');
    this.finishAndClose();
  }

  /**
   * Ends the connection after what has been written. Bytes the client still sends are read
   * and dropped for a while (a lingering close): closing a socket with unread data makes the
   * kernel send a reset, which can destroy the answer before the client has read it.
   */
  private finishAndClose(): void {
    this.state = 'closed';
    this.buffered = undefined;
    if (this.lingering) return;
    this.lingering = true;
    const socket = this.socket;
    socket.end();
    this.pausedForNext = false;
    socket.resume();
    const linger = setTimeout(() => socket.destroy(), LINGER_MS);
    linger.unref();
    socket.once('close', () => clearTimeout(linger));
  }

  // ── socket events ──────────────────────────────────────────────────────────

  /** The client half-closed its side. */
  private clientFinished(): void {
    this.clientEnded = true;
    // Closing already (the socket closes once our last bytes are out), or answer, then close.
    if (this.state === 'closed' || (this.state === 'request' && this.request?.complete === true)) return;
    this.socket.destroy();
  }

  private closed(): void {
    this.state = 'closed';
    this.host.forget(this);
    const response = this.response;
    this.response = undefined;
    response?.connectionClosed();
  }

  /**
   * The socket leaves this server (a protocol upgrade). Its 'error' listener stays: the socket
   * is never without one, whatever its new owner does.
   */
  private detach(): void {
    const socket = this.socket;
    socket.off('data', this.onData);
    socket.off('drain', this.onDrain);
    socket.off('end', this.onEnd);
    socket.off('close', this.onClose);
    this.state = 'closed';
    this.host.forget(this);
  }
}

/** How long a closing connection's further input is read and dropped before the socket is destroyed. */
const LINGER_MS = 2_000;

function ignore(): void {}
