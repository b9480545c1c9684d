/**
 * An upstream response's head as the proxy reads it: the status, what framing and persistence
 * need, and the header fields kept as the text they arrived in. Most responses are passed on
 * by copying that text minus its hop-by-hop lines (`forwardedFields`), without a string per
 * header and without re-serializing them (Content-Length aside); `rawHeaders()` splits it into
 * names and values for the listeners that need a list (the TLS listener's node:http2 responses).
 */
import { contentLengthValue, fieldValue, NameShapes, splitFields } from './field-text.js';
import { connectionNamedFields, HOP_BY_HOP } from './forwarded-headers.js';
import { ResponseParseError } from './response-parse-error.js';

/** The fields read here: a field of another shape is passed on untouched. */
const WATCHED = new NameShapes([...HOP_BY_HOP, 'content-length', 'date']);
const CHUNKED_LAST = /(?:^|,)\s*chunked\s*$/i;

export class UpstreamHead {
  contentLength = -1;
  hasTransferEncoding = false;
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
   * Throws ResponseParseError for a line that is not `name: value`.
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
      const colon = fields.indexOf(':', start);
      const first = fields.charCodeAt(start);
      if (colon <= start || colon > end || first === 32 || first === 9)
        throw new ResponseParseError('malformed header line');
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
