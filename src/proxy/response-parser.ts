/**
 * An incremental parser for HTTP/1.1 responses read from an upstream instance. The proxy
 * talks to its instances over its own pooled sockets instead of http.request: that path
 * costs about 2.5× less CPU per request (bench/proxy-throughput.ts). The parser is strict:
 * anything it does not understand fails the exchange (502) and the socket is not reused. One
 * tolerance, as nginx's: a bare LF ends a line (head, chunk size, chunk end, trailers); such a
 * head is re-written with CRLF before anything of it is passed on (RFC 9112 §2.2).
 */
import { BareLineFeedError, ResponseParseError } from './response-parse-error.js';
import { UpstreamHead } from './upstream-head.js';

export { ResponseParseError };

export interface ResponseHandler {
  /** The final response head (1xx interim responses are skipped). */
  onHead(head: UpstreamHead): void;
  onBody(chunk: Buffer): void;
  /**
   * `reusable`: the connection may carry another request. `lastBody`: the final piece of a
   * Content-Length body, handed over here instead of to onBody so the answer can be written
   * and ended in one call.
   */
  onEnd(reusable: boolean, lastBody?: Buffer): void;
}

type State =
  'head' | 'length' | 'chunk-size' | 'chunk-data' | 'chunk-crlf' | 'trailers' | 'until-close' | 'done';

const MAX_HEAD_BYTES = 64 * 1024;
const MAX_CHUNK_LINE_BYTES = 4 * 1024;
const CRLFCRLF = Buffer.from('\r\n\r\n');
const HEX = /^[0-9a-fA-F]{1,15}$/;

export class ResponseParser {
  private state: State = 'done';
  private pending: Buffer | undefined;
  private remaining = 0;
  private crlfSeen = 0;
  private reusable = true;
  private headRequest = false;
  private handler: ResponseHandler | undefined;
  /** Bytes arrived after the response ended; the socket must not carry another request. */
  overrun = false;

  /** Prepares for the response to one request. */
  expect(handler: ResponseHandler, headRequest: boolean): void {
    this.handler = handler;
    this.headRequest = headRequest;
    this.state = 'head';
    this.pending = undefined;
    this.remaining = 0;
    this.crlfSeen = 0;
    this.reusable = true;
  }

  get idle(): boolean {
    return this.state === 'done';
  }

  /** True once some of the response arrived (no retry after that). */
  get started(): boolean {
    return this.state !== 'head' || this.pending !== undefined;
  }

  /**
   * Feeds bytes; throws ResponseParseError on a malformed response. `chunk` may be a view of a
   * buffer the caller reuses: what the parser keeps it copies, and the body pieces it reports
   * are views valid only during the handler's call.
   */
  push(chunk: Buffer): void {
    let data = chunk;
    while (data.length > 0) {
      switch (this.state) {
        case 'head':
          data = this.readHead(data);
          break;
        case 'length': {
          const take = Math.min(this.remaining, data.length);
          this.remaining -= take;
          const body = take === data.length ? data : data.subarray(0, take);
          data = take === data.length ? EMPTY : data.subarray(take);
          if (this.remaining === 0) this.finish(body);
          else this.handler!.onBody(body);
          break;
        }
        case 'chunk-size':
          data = this.readChunkSize(data);
          break;
        case 'chunk-data': {
          const take = Math.min(this.remaining, data.length);
          this.remaining -= take;
          const body = take === data.length ? data : data.subarray(0, take);
          data = take === data.length ? EMPTY : data.subarray(take);
          this.handler!.onBody(body);
          if (this.remaining === 0) {
            this.state = 'chunk-crlf';
            this.crlfSeen = 0;
          }
          break;
        }
        case 'chunk-crlf': {
          const byte = data[0];
          // CRLF, or a bare LF, after the chunk's data.
          if (byte === 10) this.state = 'chunk-size';
          else if (byte !== 13 || this.crlfSeen !== 0)
            throw new ResponseParseError('chunk data not followed by CRLF');
          data = data.subarray(1);
          this.crlfSeen += 1;
          break;
        }
        case 'trailers':
          data = this.readTrailers(data);
          break;
        case 'until-close':
          this.handler!.onBody(data);
          data = EMPTY;
          break;
        case 'done':
          // Bytes after the end of the response: the upstream is out of step with us.
          this.overrun = true;
          return;
      }
    }
  }

  /** The upstream closed the connection. Returns false if that cut a response short. */
  closed(): boolean {
    if (this.state === 'until-close') {
      this.reusable = false;
      this.finish();
      return true;
    }
    return this.state === 'done';
  }

  private finish(lastBody?: Buffer): void {
    this.state = 'done';
    this.pending = undefined;
    const handler = this.handler;
    this.handler = undefined;
    handler?.onEnd(this.reusable, lastBody);
  }

  private readHead(chunk: Buffer): Buffer {
    const data = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
    // The usual head ends in CRLFCRLF and holds no bare LF: found by one search, and checked
    // by the status line and field scans, which throw BareLineFeedError for a LF in a line.
    const end = data.indexOf(CRLFCRLF);
    let head: UpstreamHead | undefined;
    let bodyStart = end + 4;
    if (end !== -1) {
      try {
        head = this.parseHead(data.toString('latin1', 0, end + 2));
      } catch (error) {
        if (!(error instanceof BareLineFeedError)) throw error;
      }
    }
    if (head === undefined) {
      // A head with bare LF line ends (or one that has not fully arrived).
      bodyStart = blankLineEnd(data, 0);
      if (bodyStart === -1) {
        if (data.length > MAX_HEAD_BYTES) throw new ResponseParseError('response head too large');
        this.pending = copyUnlessOwned(data, chunk);
        return EMPTY;
      }
      const text = data.toString('latin1', 0, bodyStart).replace(LINE_END, '\r\n');
      head = this.parseHead(text.slice(0, -2));
    }
    this.pending = undefined;
    const status = head.status;
    const rest = data.subarray(bodyStart);
    if (status >= 100 && status < 200) {
      if (status === 101) throw new ResponseParseError('unexpected 101 Switching Protocols');
      return rest; // interim response: the final head follows
    }
    if (head.connectionClose) this.reusable = false;
    this.handler!.onHead(head);
    const contentLength = head.contentLength;
    if (this.headRequest || status === 204 || status === 304) {
      this.finish();
    } else if (head.hasTransferEncoding) {
      if (head.conflictingFraming) this.reusable = false; // both framings: the connection is suspect
      if (head.chunked) this.state = 'chunk-size';
      else {
        this.reusable = false;
        this.state = 'until-close';
      }
    } else if (contentLength >= 0) {
      this.remaining = contentLength;
      if (contentLength === 0) this.finish();
      else this.state = 'length';
    } else {
      this.reusable = false;
      this.state = 'until-close';
    }
    return rest;
  }

  /** `text`: the status line and field lines, each ending in CRLF. */
  private parseHead(text: string): UpstreamHead {
    const statusEnd = text.indexOf('\r\n');
    const status = statusCode(text, statusEnd);
    return new UpstreamHead(status, text.charCodeAt(7) === 49 ? 1 : 0, text.slice(statusEnd + 2));
  }

  private readChunkSize(chunk: Buffer): Buffer {
    const data = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
    const end = data.indexOf(10);
    if (end === -1) {
      if (data.length > MAX_CHUNK_LINE_BYTES) throw new ResponseParseError('chunk size line too long');
      this.pending = copyUnlessOwned(data, chunk);
      return EMPTY;
    }
    this.pending = undefined;
    // CRLF, or a bare LF, ends the line.
    const line = data.toString('latin1', 0, end > 0 && data[end - 1] === 13 ? end - 1 : end);
    const semicolon = line.indexOf(';');
    const sizeText = (semicolon === -1 ? line : line.slice(0, semicolon)).trim();
    if (!HEX.test(sizeText)) throw new ResponseParseError('malformed chunk size');
    const size = parseInt(sizeText, 16);
    if (size === 0) this.state = 'trailers';
    else {
      this.remaining = size;
      this.state = 'chunk-data';
    }
    return data.subarray(end + 1);
  }

  private readTrailers(chunk: Buffer): Buffer {
    const data = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
    // No trailer: the last chunk's line is followed by an empty line (CRLF or a bare LF).
    const emptyLine = data[0] === 10 ? 1 : data.length >= 2 && data[0] === 13 && data[1] === 10 ? 2 : 0;
    const end = emptyLine > 0 ? emptyLine : blankLineEnd(data, 0);
    if (end === -1) {
      if (data.length > MAX_HEAD_BYTES) throw new ResponseParseError('trailers too large');
      this.pending = copyUnlessOwned(data, chunk);
      return EMPTY;
    }
    // Trailers are dropped: the response to the client is framed by the proxy.
    this.pending = undefined;
    this.finish();
    return data.subarray(end);
  }
}

/** A LF, optionally preceded by a CR: a line end where bare LFs are tolerated. */
const LINE_END = /\r?\n/g;

/**
 * Where the first empty line of `data` from `from` ends (the body's first byte), a bare LF
 * counting as a line end; -1 if none has arrived. The empty line is the one right after a LF.
 */
function blankLineEnd(data: Buffer, from: number): number {
  for (let lf = data.indexOf(10, from); lf !== -1; lf = data.indexOf(10, lf + 1)) {
    const next = data[lf + 1];
    if (next === 10) return lf + 2;
    if (next === 13 && data[lf + 2] === 10) return lf + 3;
  }
  return -1;
}

const EMPTY = Buffer.alloc(0);

/**
 * The status code of `HTTP/1.x NNN[ reason]`, the first `lineEnd` characters of `text`; throws
 * for anything else (a bare CR or LF in the reason included). Read by character codes: a regex
 * match would make a result array and a string per group for every response.
 */
export function statusCode(text: string, lineEnd: number): number {
  // 100–599 only (RFC 9110 §15): node:http and node:http2 throw on other codes.
  const minor = text.charCodeAt(7);
  const hundreds = text.charCodeAt(9) - 48;
  const tens = text.charCodeAt(10) - 48;
  const units = text.charCodeAt(11) - 48;
  if (
    lineEnd < 12 ||
    !text.startsWith('HTTP/1.') ||
    (minor !== 48 && minor !== 49) ||
    text.charCodeAt(8) !== 32 ||
    hundreds < 1 ||
    hundreds > 5 ||
    !isDigit(tens) ||
    !isDigit(units) ||
    (lineEnd > 12 && text.charCodeAt(12) !== 32) ||
    text.indexOf('\r') !== lineEnd
  )
    throw new ResponseParseError('malformed status line');
  // A LF before the line's CRLF: the head has bare-LF line ends (see BareLineFeedError).
  if (text.indexOf('\n') !== lineEnd + 1) throw new BareLineFeedError();
  return hundreds * 100 + tens * 10 + units;
}

function isDigit(value: number): boolean {
  return value >= 0 && value <= 9;
}

/**
 * Bytes kept for the next push: `chunk` may be a view of a reused read buffer (see
 * upstream-connection.ts), so a slice of it is copied; a concatenation is already our own.
 */
function copyUnlessOwned(data: Buffer, chunk: Buffer): Buffer {
  return data === chunk ? Buffer.from(chunk) : data;
}
