/**
 * Decodes a chunked request body (RFC 9112 §7.1) as it arrives, strictly: a chunk size is 1–15
 * hex digits (no sign, prefix or space), optionally followed by `;` extensions without control
 * characters; every chunk ends in CRLF; trailer fields are read, checked like header fields and
 * dropped (the proxy re-frames the body it sends upstream). Anything else is a ClientHttpError,
 * and the connection must close: its framing can no longer be trusted.
 */
import { ClientHttpError } from './client-http-error.js';

export interface ChunkSink {
  onBodyData(chunk: Buffer): void;
  /** The body ended; `rest` is whatever followed it (the next pipelined request). */
  onBodyEnd(rest: Buffer): void;
}

type State = 'size' | 'data' | 'data-cr' | 'data-lf' | 'trailers' | 'done';

const MAX_LINE_BYTES = 4 * 1024;
const MAX_TRAILER_BYTES = 16 * 1024;
const SIZE_LINE = /^([0-9A-Fa-f]{1,15})(?:;[\x20-\x7E\x80-\xFF\t]*)?$/;
const TRAILER_FIELD = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+:[\t\x20-\x7E\x80-\xFF]*$/;
const EMPTY = Buffer.alloc(0);

export class ChunkedDecoder {
  private state: State = 'size';
  private remaining = 0;
  /** An incomplete size line or trailer section, kept until its CRLF arrives. */
  private pending: Buffer | undefined;
  private trailerBytes = 0;

  constructor(private readonly sink: ChunkSink) {}

  get done(): boolean {
    return this.state === 'done';
  }

  /** Feeds bytes; throws ClientHttpError on malformed framing. */
  push(chunk: Buffer): void {
    let data = chunk;
    while (data.length > 0 && this.state !== 'done') {
      switch (this.state) {
        case 'size':
          data = this.readSizeLine(data);
          break;
        case 'data': {
          const take = Math.min(this.remaining, data.length);
          this.remaining -= take;
          this.sink.onBodyData(take === data.length ? data : data.subarray(0, take));
          data = take === data.length ? EMPTY : data.subarray(take);
          if (this.remaining === 0) this.state = 'data-cr';
          break;
        }
        case 'data-cr':
          if (data[0] !== 13) throw new ClientHttpError(400, 'chunk data longer than its size');
          this.state = 'data-lf';
          data = data.subarray(1);
          break;
        case 'data-lf':
          if (data[0] !== 10) throw new ClientHttpError(400, 'chunk data not followed by CRLF');
          this.state = 'size';
          data = data.subarray(1);
          break;
        case 'trailers':
          data = this.readTrailerLine(data);
          break;
      }
    }
  }

  private line(data: Buffer, limit: number): { text: string; rest: Buffer } | undefined {
    const joined = this.pending === undefined ? data : Buffer.concat([this.pending, data]);
    const end = joined.indexOf('\r\n');
    if (end === -1) {
      // A LF without its CR can never become a valid line.
      if (joined.indexOf(10) !== -1) throw new ClientHttpError(400, 'bare LF in chunked framing');
      if (joined.length > limit) throw new ClientHttpError(400, 'chunk line too long');
      this.pending = joined;
      return undefined;
    }
    if (end > limit) throw new ClientHttpError(400, 'chunk line too long');
    this.pending = undefined;
    return { text: joined.toString('latin1', 0, end), rest: joined.subarray(end + 2) };
  }

  private readSizeLine(data: Buffer): Buffer {
    const line = this.line(data, MAX_LINE_BYTES);
    if (line === undefined) return EMPTY;
    const size = SIZE_LINE.exec(line.text);
    if (size === null) throw new ClientHttpError(400, 'malformed chunk size');
    this.remaining = parseInt(size[1]!, 16);
    this.state = this.remaining === 0 ? 'trailers' : 'data';
    return line.rest;
  }

  private readTrailerLine(data: Buffer): Buffer {
    const line = this.line(data, MAX_TRAILER_BYTES);
    if (line === undefined) return EMPTY;
    if (line.text === '') {
      this.state = 'done';
      this.sink.onBodyEnd(line.rest);
      return EMPTY;
    }
    this.trailerBytes += line.text.length + 2;
    if (this.trailerBytes > MAX_TRAILER_BYTES || !TRAILER_FIELD.test(line.text))
      throw new ClientHttpError(400, 'malformed or oversized trailer section');
    return line.rest;
  }
}
