/**
 * The answer to one Http1Request, written straight to the client socket. It frames the body
 * itself (the upstream's framing never reaches the client): Content-Length when the headers
 * carry one, chunked for an HTTP/1.1 client otherwise, and for an HTTP/1.0 client the end of
 * the connection. The head goes out with the first body piece, and a small final body in the
 * same write, so most responses cost one write. Tells its 'drain' listeners when the socket
 * can take more, and its 'close' listeners when it is finished or the connection died first
 * (see writableFinished). Plain listener lists, not an EventEmitter: one response is made per
 * request, and an emitter's set-up, `on` and `emit` cost more than the one listener of each
 * kind forwarding adds.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';

export interface ResponseOwner {
  /** False while the request body is still arriving: an answer now ends the connection. */
  readonly requestComplete: boolean;
  /** The whole response has been handed to the socket; `keepAlive` says if the connection may go on. */
  onResponseEnd(response: Http1Response, keepAlive: boolean): void;
  /** A write left the socket's buffer full: the response now waits for the client to read. */
  onWriteBlocked(): void;
}

export type ResponseHeaders = readonly string[] | Readonly<Record<string, string>>;

const LAST_CHUNK = '0\r\n\r\n';
/** A final body up to this size is copied into the head's buffer: one write instead of two. */
const COALESCE_BYTES = 16 * 1024;

let dateSecond = -1;
let dateText = '';

const statusLines: string[] = [];

/** `HTTP/1.1 200 OK\r\n`, built once per status code. */
function statusLine(status: number): string {
  let line = statusLines[status];
  if (line === undefined) {
    line = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
    if (status >= 100 && status < 600) statusLines[status] = line;
  }
  return line;
}

/** The Date field value, built at most once a second. */
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}

export class Http1Response {
  headersSent = false;
  /** The status of the head written (0 before writeHead). */
  statusCode = 0;
  writableFinished = false;
  /** Cleared to close the connection after this response (set before writeHead). */
  shouldKeepAlive: boolean;
  private head: string | undefined;
  private chunked = false;
  private noBody = false;
  private closed = false;
  private closeListeners: Array<() => void> | undefined;
  private drainListeners: Array<() => void> | undefined;

  constructor(
    private readonly socket: Socket,
    private readonly owner: ResponseOwner,
    private readonly headRequest: boolean,
    private readonly httpVersionMinor: 0 | 1,
    keepAlive: boolean,
    /** `Keep-Alive` field value for persistent connections, e.g. `timeout=75`. */
    private readonly keepAliveHint: string,
  ) {
    this.shouldKeepAlive = keepAlive;
  }

  /** `listener` runs once, when the response is finished or its connection closed first. */
  on(_event: 'close', listener: () => void): this {
    (this.closeListeners ??= []).push(listener);
    return this;
  }

  /** `listener` runs once, the next time the socket can take more after write() returned false. */
  once(_event: 'drain', listener: () => void): this {
    (this.drainListeners ??= []).push(listener);
    return this;
  }

  /** The client socket drained (from the connection). */
  drained(): void {
    const listeners = this.drainListeners;
    if (listeners === undefined) return;
    this.drainListeners = undefined;
    for (const listener of listeners) listener();
  }

  writeHead(status: number, headers: ResponseHeaders): this {
    if (this.headersSent || this.head !== undefined) return this;
    let fields = '';
    let hasLength = false;
    let hasDate = false;
    const add = (name: string, value: string): void => {
      const length = name.length;
      if (length === 14 && name.toLowerCase() === 'content-length') hasLength = true;
      else if (length === 4 && name.toLowerCase() === 'date') hasDate = true;
      // Persistence is this server's decision, never a header passed in.
      else if (length === 10 && name.toLowerCase() === 'connection') return;
      fields += `${name}: ${value}\r\n`;
    };
    if (Array.isArray(headers)) {
      const list = headers as readonly string[];
      for (let i = 0; i < list.length; i += 2) add(list[i]!, list[i + 1]!);
    } else {
      for (const [name, value] of Object.entries(headers)) add(name, value);
    }
    return this.writeHeadFields(status, fields, hasLength, hasDate);
  }

  /**
   * Like writeHead, with the fields already serialized: CRLF-terminated lines, none of them
   * Connection or another hop-by-hop field (a proxied response's, copied as they came).
   * `hasLength`/`hasDate`: the lines include Content-Length / Date.
   */
  writeHeadFields(status: number, fields: string, hasLength: boolean, hasDate: boolean): this {
    if (this.headersSent || this.head !== undefined) return this;
    this.statusCode = status;
    let head = statusLine(status) + fields;
    this.noBody = this.headRequest || status === 204 || status === 304 || (status >= 100 && status < 200);
    if (!this.noBody && !hasLength) {
      if (this.httpVersionMinor === 1) {
        this.chunked = true;
        head += 'Transfer-Encoding: chunked\r\n';
      } else {
        this.shouldKeepAlive = false; // an HTTP/1.0 client learns the end of the body from the close
      }
    }
    if (!hasDate) head += `Date: ${httpDate()}\r\n`;
    if (!this.owner.requestComplete) this.shouldKeepAlive = false;
    if (!this.shouldKeepAlive) head += 'Connection: close\r\n';
    // Said even to HTTP/1.1 clients, with the idle timeout, as Node's server does: clients then
    // know to stop reusing the connection before the proxy closes it.
    else head += `Connection: keep-alive\r\nKeep-Alive: ${this.keepAliveHint}\r\n`;
    this.head = `${head}\r\n`;
    return this;
  }

  /** Returns false when the socket's buffer is full: wait for 'drain'. */
  write(chunk: Buffer): boolean {
    // A connection refused or closed under the response: 'close' is on its way.
    if (this.writableFinished || !this.socket.writable) return false;
    if (this.head === undefined && !this.headersSent) this.writeHead(200, []);
    if (this.noBody || chunk.length === 0) return this.flushHead();
    const socket = this.socket;
    socket.cork();
    this.flushHead();
    if (this.chunked) socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
    socket.write(chunk);
    if (this.chunked) socket.write('\r\n', 'latin1');
    socket.uncork();
    if (socket.writableLength < socket.writableHighWaterMark) return true;
    this.owner.onWriteBlocked();
    return false;
  }

  end(lastBody?: Buffer | string): void {
    if (this.writableFinished || this.closed) return;
    if (this.head === undefined && !this.headersSent) this.writeHead(200, []);
    const body = typeof lastBody === 'string' ? Buffer.from(lastBody) : lastBody;
    const socket = this.socket;
    if (socket.writable) {
      const head = this.head;
      const hasBody = body !== undefined && body.length > 0 && !this.noBody;
      if (head !== undefined && !this.chunked && (!hasBody || body.length <= COALESCE_BYTES)) {
        this.writeWhole(head, hasBody ? body : undefined);
      } else {
        socket.cork();
        if (hasBody) this.write(body);
        else this.flushHead();
        if (this.chunked) socket.write(LAST_CHUNK, 'latin1');
        socket.uncork();
      }
    }
    this.writableFinished = true;
    this.owner.onResponseEnd(this, this.shouldKeepAlive);
    this.emitClose();
  }

  /**
   * end() with a last body piece that is a view of a buffer the caller reuses (valid during
   * this call only): copied, unless it goes out at once in one write with the head.
   */
  endWithView(view: Buffer): void {
    const writtenAtOnce = this.head !== undefined && !this.chunked && view.length <= COALESCE_BYTES;
    this.end(writtenAtOnce ? view : Buffer.from(view));
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** The connection closed; a response not finished by then is reported as cut short. */
  connectionClosed(): void {
    this.emitClose();
  }

  /**
   * The connection answered the request itself with `status` (a refusal: the body limits' 408,
   * a malformed body's 400) and closes: that answer is this response's head.
   */
  refused(status: number): void {
    if (this.closed) return;
    this.statusCode = status;
    this.headersSent = true;
    this.emitClose();
  }

  private emitClose(): void {
    if (this.closed) return;
    this.closed = true;
    const listeners = this.closeListeners;
    if (listeners === undefined) return;
    this.closeListeners = undefined;
    for (const listener of listeners) listener();
  }

  private flushHead(): boolean {
    const head = this.head;
    if (head === undefined) return true;
    this.head = undefined;
    this.headersSent = true;
    return this.socket.write(head, 'latin1');
  }

  private writeWhole(head: string, body: Buffer | undefined): void {
    this.head = undefined;
    this.headersSent = true;
    if (body === undefined) {
      this.socket.write(head, 'latin1');
      return;
    }
    // One latin1 string (bytes map 1:1): Node copies a small string write straight into the
    // socket, with no Buffer made for it, where a Buffer would be allocated, filled and copied.
    this.socket.write(head + body.toString('latin1'), 'latin1');
  }
}
