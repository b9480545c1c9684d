/**
 * An upstream response's head as the proxy reads it: the status, what framing and persistence
 * need, and the header fields kept as the text they arrived in. Most responses are passed on
 * by copying that text minus its hop-by-hop lines (`forwardedFields`), without a string per
 * header and without re-serializing them (Content-Length aside); `rawHeaders()` splits it into
 * names and values for the listeners that need a list (the TLS listener's node:http2 responses).
 */
import {
  checkFieldLine,
  contentLengthValue,
  FIELD_NAME_INVALID,
  FIELD_VALUE_LF,
  fieldValue,
  NameShapes,
  splitFields,
} from './field-text.js';
import { connectionNamedFields, filterResponseHeaders, HOP_BY_HOP } from './forwarded-headers.js';
import { BareLineFeedError, ResponseParseError } from './response-parse-error.js';

/** The fields read here: a field of another shape is passed on untouched. */
const WATCHED = new NameShapes([...HOP_BY_HOP, 'content-length', 'date']);
const CHUNKED_LAST = /(?:^|,)\s*chunked\s*$/i;

export class UpstreamHead {
  /** The body's length by Content-Length, -1 for none (or when Transfer-Encoding overrides it). */
  contentLength = -1;
  hasTransferEncoding = false;
  /** Both Content-Length and Transfer-Encoding came: the length is ignored (RFC 9112 §6.3). */
  conflictingFraming = false;
  /** Transfer-Encoding ends in chunked. */
  chunked = false;
  /** Connection: close (or HTTP/1.0 without keep-alive). */
  connectionClose: boolean;
  hasDate = false;
  /** The Keep-Alive field's value, if any (the upstream's idle timeout hint). */
  keepAlive: string | undefined;
  /** Connection names further fields (other than close/keep-alive/upgrade): hop-by-hop too. */
  private namesMoreHopByHop = false;
  /**
   * [start, end) offsets in `fields` of the lines not copied, CRLF included: the hop-by-hop
   * ones, and Content-Length, which is written anew in its plain form (a client may refuse the
   * whitespace an upstream put around it).
   */
  private readonly cutLines: number[] = [];

  /**
   * `fields`: the header lines after the status line, each ending in CRLF ('' for none).
   * Throws ResponseParseError for a line that is not `token: value`, or a value holding a
   * control character (a bare CR, NUL …): passed on, it would let the upstream inject lines
   * into the client's head, and node:http and node:http2 throw on it. A LF inside a line
   * throws BareLineFeedError: the parser then reads it as a line end and tries again.
   */
  constructor(
    readonly status: number,
    readonly httpVersionMinor: 0 | 1,
    private readonly fields: string,
  ) {
    this.connectionClose = httpVersionMinor === 0;
    let connection: string | undefined;
    for (let start = 0; start < fields.length;) {
      const end = fields.indexOf('\r\n', start);
      const colon = checkFieldLine(fields, start, end);
      if (colon < 0) {
        if (colon === FIELD_VALUE_LF) throw new BareLineFeedError();
        throw new ResponseParseError(
          colon === FIELD_NAME_INVALID ? 'malformed header line' : 'a control character in a header value',
        );
      }
      const first = fields.charCodeAt(start);
      const next = end + 2;
      if (WATCHED.has(colon - start, first)) {
        // One switch: every hop-by-hop name (HOP_BY_HOP) is cut, the framing ones read first.
        switch (fields.slice(start, colon).toLowerCase()) {
          case 'content-length':
            this.readContentLength(fieldValue(fields, colon + 1, end));
            this.cutLines.push(start, next);
            break;
          case 'date':
            this.hasDate = true;
            break;
          case 'transfer-encoding':
            this.hasTransferEncoding = true;
            this.chunked = CHUNKED_LAST.test(fieldValue(fields, colon + 1, end));
            this.cutLines.push(start, next);
            break;
          case 'connection': {
            const value = fieldValue(fields, colon + 1, end).toLowerCase();
            connection = connection === undefined ? value : `${connection},${value}`;
            this.cutLines.push(start, next);
            break;
          }
          case 'keep-alive':
            this.keepAlive = fieldValue(fields, colon + 1, end);
            this.cutLines.push(start, next);
            break;
          case 'te':
          case 'trailer':
          case 'upgrade':
          case 'proxy-connection':
            this.cutLines.push(start, next);
            break;
        }
      }
      start = next;
    }
    if (connection !== undefined) this.readConnection(connection);
    if (this.hasTransferEncoding && this.contentLength !== -1) {
      // Transfer-Encoding frames the body; the Content-Length beside it is not passed on.
      this.conflictingFraming = true;
      this.contentLength = -1;
    }
  }

  /**
   * The fields to pass to the client, as CRLF-terminated lines without the hop-by-hop ones;
   * undefined when Connection names further fields to drop (then filter `rawHeaders()`).
   */
  forwardedFields(): string | undefined {
    if (this.namesMoreHopByHop) return undefined;
    const cuts = this.cutLines;
    if (cuts.length === 0) return this.fields;
    let kept = '';
    let from = 0;
    for (let i = 0; i < cuts.length; i += 2) {
      kept += this.fields.slice(from, cuts[i]);
      from = cuts[i + 1]!;
    }
    kept += this.fields.slice(from);
    return this.contentLength === -1 ? kept : `${kept}Content-Length: ${this.contentLength}\r\n`;
  }

  /** Every field as a flat [name, value, …] list, hop-by-hop ones included. */
  rawHeaders(): string[] {
    return splitFields(this.fields);
  }

  /**
   * The fields to pass on as a [name, value, …] list (the TLS listener's responses, and those
   * whose Connection names further fields): no hop-by-hop field, and Content-Length once, from
   * the value read here, or not at all beside Transfer-Encoding.
   */
  forwardedHeaderList(): string[] {
    const list = filterResponseHeaders(this.rawHeaders());
    for (let i = list.length - 2; i >= 0; i -= 2) {
      const name = list[i]!;
      if (name.length === 14 && name.toLowerCase() === 'content-length') list.splice(i, 2);
    }
    if (this.contentLength !== -1) list.push('Content-Length', String(this.contentLength));
    return list;
  }

  private readContentLength(value: string): void {
    const parsed = contentLengthValue(value);
    if (parsed === -1) throw new ResponseParseError('malformed Content-Length');
    if (this.contentLength !== -1 && this.contentLength !== parsed)
      throw new ResponseParseError('conflicting Content-Length');
    this.contentLength = parsed;
  }

  private readConnection(tokens: string): void {
    // The usual single value first: no split.
    if (tokens === 'keep-alive' || tokens === 'close') {
      if (tokens === 'close') this.connectionClose = true;
      else if (this.httpVersionMinor === 0) this.connectionClose = false;
      return;
    }
    if (tokens.includes('close')) this.connectionClose = true;
    else if (this.httpVersionMinor === 0 && tokens.includes('keep-alive')) this.connectionClose = false;
    this.namesMoreHopByHop = connectionNamedFields(tokens).size > 0;
  }
}
