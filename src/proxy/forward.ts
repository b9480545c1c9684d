/**
 * Forwards one HTTP request to one instance over a pooled connection and streams the answer
 * back: bodies flow in both directions with backpressure (memory stays bounded, nothing is
 * buffered), an idempotent bodyless request whose connection fails before any response byte
 * is retried once on another instance of the same slot, and upstream failures become short
 * 502/504 answers.
 */
import type { ServerResponse } from 'node:http';
import type { Http2ServerResponse } from 'node:http2';
import { performance } from 'node:perf_hooks';
import type { ErrorCode } from '../shared/errors.js';
import type { Slot } from '../shared/slot.js';
import type { SlotActivity } from './drain.js';
import { bodyArrivedWhole, type BodyEndSignals } from './body-arrived-whole.js';
import { Http1Response } from './http1/http1-response.js';
import { headerListToObject, type ScannedRequest } from './forwarded-headers.js';
import type { ExchangeCut, ProxyMetrics } from './metrics.js';
import type { SlotTable } from './slot-table.js';
import { stickyCookieHeader } from './sticky.js';
import { PROXY_ANSWERS, UPSTREAM_CONNECT_TIMEOUT } from './timeouts.js';
import {
  UPSTREAM_BAD_RESPONSE,
  UPSTREAM_CLOSED,
  UPSTREAM_RESPONSE_TIMEOUT,
  type Exchange,
  type FailureDetail,
  type UpstreamConnection,
} from './upstream-connection.js';
import type { UpstreamHead } from './upstream-head.js';
import type { Upstream } from './upstream-pool.js';
import type { ResponseTap } from './shadow/shadow-comparer.js';

/** What forwarding uses of a request: node:http2's (TLS listener) and Http1Request (plain listener). */
export interface ClientRequest extends BodyEndSignals {
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  readonly httpVersionMajor: number;
  readonly httpVersionMinor: number;
  readonly rawHeaders: string[];
  readonly socket: { readonly remoteAddress?: string | undefined };
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  on(event: 'end', listener: () => void): unknown;
  pause(): unknown;
  resume(): unknown;
}

/** What forwarding uses of a response, on either kind of listener. */
export interface ClientResponse {
  readonly headersSent: boolean;
  /** The status of the head sent (read when the head was not forwarding's: see ProxiedRequest.finish). */
  readonly statusCode: number;
  writeHead(status: number, headers: Record<string, string>): unknown;
  write(chunk: Buffer): boolean;
  end(): unknown;
  end(body: Buffer | string): unknown;
  destroy(): unknown;
  on(event: 'close', listener: () => void): unknown;
  once(event: 'drain', listener: () => void): unknown;
}
export type BodyFraming = 'none' | 'length' | 'chunked';

export interface ForwardContext {
  readonly table: SlotTable;
  readonly metrics: ProxyMetrics;
  readonly activity: Record<Slot, SlotActivity>;
  readonly stickyCookie: string;
  /** Something threw inside one exchange: log it (the exchange has been ended). */
  exchangeFailed(error: unknown): void;
}

/** The code an exception inside one exchange is logged with, and fails its upstream request with. */
export const EXCHANGE_FAILED: ErrorCode = 'CUTOVER_E_PROXY_EXCHANGE';

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);
/** Errors that mean a new connection could not be made: the instance is likely down. */
const CONNECT_FAILURES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', UPSTREAM_CONNECT_TIMEOUT]);
/** Errors on a reused keep-alive socket that the upstream closed just as we sent: safe to retry. */
const STALE_SOCKET = new Set(['ECONNRESET', 'EPIPE', UPSTREAM_CLOSED]);

/**
 * The request line and header lines for the upstream, framed by the proxy for the body it
 * will send: `contentLength` (≥ 0) is written as Content-Length, a chunked body gets
 * Transfer-Encoding: chunked. `fields` never holds the client's framing lines.
 */
export function requestHead(
  method: string,
  path: string,
  fields: string,
  body: BodyFraming,
  fallbackHost: string | undefined,
  contentLength = -1,
): string {
  let head = `${method} ${path} HTTP/1.1\r\n${fields}`;
  if (fallbackHost !== undefined) head += `Host: ${fallbackHost}\r\n`;
  if (body === 'chunked') head += 'Transfer-Encoding: chunked\r\n';
  else if (contentLength >= 0) head += `Content-Length: ${contentLength}\r\n`;
  return `${head}\r\n`;
}

export class ProxiedRequest implements Exchange {
  private connection: UpstreamConnection | undefined;
  /** The connection the request body is being written to, until the body ends. */
  private bodyConnection: UpstreamConnection | undefined;
  private attempts = 0;
  private status = 0;
  private proxyError = false;
  /** Forwarding has ended the response: the upstream's (or the proxy's own answer) went out whole. */
  private responseEnded = false;
  /** The upstream failed mid-response: the client's cut response is not the client's doing. */
  private upstreamCut = false;
  private done = false;
  /** Shadow comparison: told what the client is sent, as it is sent (set before any answer arrives). */
  tap: ResponseTap | undefined;

  constructor(
    private readonly context: ForwardContext,
    private readonly request: ClientRequest,
    private readonly response: ClientResponse,
    private readonly slot: Slot,
    private upstream: Upstream,
    private readonly scanned: ScannedRequest,
    private readonly body: BodyFraming,
    private readonly setStickyCookie: boolean,
    private readonly startedAt: number,
  ) {
    context.activity[slot].inFlight += 1;
    response.on('close', () => {
      try {
        this.finish();
      } catch (error) {
        this.context.exchangeFailed(error);
      }
    });
    this.send();
  }

  private send(): void {
    const { request, upstream, scanned } = this;
    this.attempts += 1;
    upstream.inFlight += 1;
    const connection = upstream.acquire();
    this.connection = connection;
    const method = request.method ?? 'GET';
    const fallbackHost = scanned.hasHostLine ? undefined : `${upstream.target.host}:${upstream.target.port}`;
    // A declared empty body is said too (some servers want a length on every POST).
    const length = scanned.contentLength;
    const contentLength = this.body === 'length' || (this.body === 'none' && length === 0) ? length : -1;
    const head = requestHead(
      method,
      request.url ?? '/',
      scanned.fields,
      this.body,
      fallbackHost,
      contentLength,
    );
    connection.send(head, this, method === 'HEAD', this.body, contentLength);
    if (this.body !== 'none') this.streamBody(connection);
  }

  private streamBody(connection: UpstreamConnection): void {
    this.bodyConnection = connection;
    const request = this.request;
    request.on('data', (chunk: Buffer) => {
      try {
        if (!connection.writeBody(chunk)) request.pause();
      } catch (error) {
        this.crashed(error);
      }
    });
    request.on('end', () => {
      try {
        if (bodyArrivedWhole(request) && !connection.bodyShort()) {
          this.bodyConnection = undefined;
          connection.endBody();
        } else this.clientLeftMidBody(connection);
      } catch (error) {
        this.crashed(error);
      }
    });
  }

  /**
   * The client's side ended before its body did (see body-arrived-whole.ts), or before the
   * Content-Length it announced was reached (an HTTP/2 stream ended early): the upstream must
   * never see that body end. Its connection, mid-body, closes (never ended, never pooled), and
   * the exchange ends; finish() records it as cut by the client while `bodyConnection` is set.
   */
  private clientLeftMidBody(connection: UpstreamConnection): void {
    connection.abort();
    if (this.connection === connection) this.connection = undefined;
    // The stream is closed and its 'close' follows; a response the proxy gave beside forwarding
    // (the body limits' 408) ends on its own, after its last bytes.
    if (this.status !== 0 || !this.response.headersSent) this.response.destroy();
  }

  // Exchange: the connection reports the response here.
  onHead(head: UpstreamHead): void {
    const status = head.status;
    this.status = status;
    this.tap?.onHead(head);
    if (head.keepAlive !== undefined) this.upstream.noteKeepAliveHint(head.keepAlive);
    const response = this.response;
    const cookie = this.setStickyCookie
      ? stickyCookieHeader(this.context.stickyCookie, this.slot)
      : undefined;
    if (response instanceof Http1Response) {
      // The usual case: the upstream's field lines are copied as they came.
      const fields = head.forwardedFields();
      if (fields !== undefined) {
        response.writeHeadFields(
          status,
          cookie === undefined ? fields : `${fields}Set-Cookie: ${cookie}\r\n`,
          head.contentLength !== -1,
          head.hasDate,
        );
        return;
      }
    }
    const headers = head.forwardedHeaderList();
    if (cookie !== undefined) headers.push('Set-Cookie', cookie);
    if (response instanceof Http1Response) response.writeHead(status, headers);
    else if (this.request.httpVersionMajor === 2)
      (response as Http2ServerResponse).writeHead(status, headerListToObject(headers));
    else (response as ServerResponse).writeHead(status, headers);
  }

  onBody(chunk: Buffer): void {
    this.tap?.onBody(chunk);
    const response = this.response;
    if (!response.write(chunk)) {
      const connection = this.connection;
      connection?.pause();
      response.once('drain', () => connection?.resume());
    }
  }

  onEnd(_reusable: boolean, lastBody?: Buffer): void {
    this.connection = undefined;
    this.responseEnded = true;
    // Before the end below: lastBody is a view valid during this call only.
    this.tap?.onEnd(lastBody);
    const response = this.response;
    // The last (often the only) body piece goes with end(): one write of head and body.
    // It is a view of the connection's read buffer: copied unless written out at once.
    if (lastBody === undefined) response.end();
    else if (response instanceof Http1Response) response.endWithView(lastBody);
    else response.end(Buffer.from(lastBody));
  }

  onWritable(): void {
    this.request.resume();
  }

  onFailure(error: NodeJS.ErrnoException, detail: FailureDetail): void {
    this.connection = undefined;
    if (error.code === EXCHANGE_FAILED) this.context.exchangeFailed(error);
    if (this.done) return;
    if (detail.responseStarted || this.response.headersSent) {
      // Mid-response: the client cannot be told anything better than a cut stream.
      this.upstreamCut = true;
      this.response.destroy();
      return;
    }
    const code = error.code ?? '';
    const connectFailed = CONNECT_FAILURES.has(code);
    const staleSocket = detail.reused && STALE_SOCKET.has(code);
    if (connectFailed) this.upstream.markDown(Date.now());
    if ((connectFailed || staleSocket) && this.mayRetry()) {
      const next = this.context.table.pickUpstream(this.slot, connectFailed ? this.upstream : undefined);
      if (next !== undefined) {
        this.upstream.inFlight -= 1;
        this.upstream = next;
        this.send();
        return;
      }
    }
    if (code === UPSTREAM_BAD_RESPONSE) {
      // The reason goes with the 502: what the upstream sent that the proxy will not pass on.
      const { status, body } = PROXY_ANSWERS.badResponse;
      this.answer({ status, body: `${body.trimEnd()}: ${error.message}\n` });
      return;
    }
    if (code === EXCHANGE_FAILED) {
      this.answer({ status: 502, body: 'the proxy could not pass on the upstream response\n' });
      return;
    }
    this.answer(
      code === UPSTREAM_RESPONSE_TIMEOUT
        ? PROXY_ANSWERS.responseTimeout
        : code === UPSTREAM_CONNECT_TIMEOUT
          ? PROXY_ANSWERS.connectTimeout
          : connectFailed
            ? PROXY_ANSWERS.connectFailed
            : PROXY_ANSWERS.upstreamBroke,
    );
  }

  /** Something threw while this exchange ran: it ends here, with its connections, and is logged. */
  private crashed(error: unknown): void {
    this.context.exchangeFailed(error);
    this.bodyConnection?.abort();
    this.connection?.abort();
    this.response.destroy();
  }

  /** Only once, only idempotent methods, only when no request body was sent. */
  private mayRetry(): boolean {
    return this.attempts === 1 && this.body === 'none' && IDEMPOTENT.has(this.request.method ?? '');
  }

  /** Answers in the proxy's name; never throws (it is the last thing a failed exchange does). */
  private answer(answer: { readonly status: number; readonly body: string }): void {
    this.proxyError = true;
    this.tap?.onAbandon();
    this.status = answer.status;
    const response = this.response;
    try {
      // A response whose head was refused by the client's protocol (node:http2 throws on
      // some headers) is half-written: only closing the stream is left.
      if (response.headersSent) {
        response.destroy();
        return;
      }
      response.writeHead(answer.status, {
        'content-type': 'text/plain',
        'content-length': String(answer.body.length),
        'x-request-id': this.scanned.requestId,
      });
      this.responseEnded = true;
      response.end(answer.body);
    } catch (error) {
      this.context.exchangeFailed(error);
      response.destroy();
    }
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.context.activity[this.slot].inFlight -= 1;
    this.upstream.inFlight -= 1;
    const response = this.response;
    const completed = this.responseEnded;
    // The client went away: whatever the upstream socket is doing is no longer wanted.
    if (!completed) this.connection?.abort();
    if (!completed) this.tap?.onAbandon();
    const midBody = this.bodyConnection !== undefined;
    // A body still being sent when the exchange ends (answered early, refused for its body
    // limits, or the client left mid-body): that socket is mid-body and can never carry another
    // request, and the body's end must never reach it.
    this.bodyConnection?.abort();
    let status = this.status;
    let cut: ExchangeCut | undefined;
    if (status === 0 && response.headersSent) {
      // Answered beside forwarding, before the upstream said anything: a refusal while the
      // body arrived (the body limits' 408, a malformed chunked body's 400).
      status = response.statusCode;
      cut = 'refused';
    } else if (!completed) {
      status = 499;
      if (!this.upstreamCut) cut = midBody ? 'client-body-incomplete' : 'client-closed';
    }
    const seconds = (performance.now() - this.startedAt) / 1000;
    this.context.metrics.record(this.slot, status, seconds, this.proxyError, cut);
  }
}
