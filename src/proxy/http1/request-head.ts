/**
 * Parses one HTTP/1.x request head (request line and fields, up to the blank line) for the
 * proxy's own HTTP/1.1 server, strictly: every ambiguity a request-smuggling attack relies on
 * is a 400, never a guess (RFC 9112 §2.2, §3, §5, §6). Rejected: bare CR or LF, control
 * characters in a field, obs-fold, whitespace before a colon, a field name that is not a
 * token, Content-Length that is not one run of digits or appears twice, Transfer-Encoding
 * other than one `chunked` field, both framings at once, Transfer-Encoding on HTTP/1.0, a
 * missing or repeated Host on HTTP/1.1.
 */
import { contentLengthValue, fieldValue, NameShapes } from '../field-text.js';
import { ClientHttpError } from './client-http-error.js';

export type BodyKind = 'none' | 'length' | 'chunked';

export interface RequestHead {
  readonly method: string;
  /** The request target as sent (origin-form, absolute-form, or `*`). */
  readonly url: string;
  readonly httpVersionMajor: 1;
  readonly httpVersionMinor: 0 | 1;
  /** The header lines as sent, each ending in CRLF ('' for none); see field-text.ts. */
  readonly fields: string;
  readonly body: BodyKind;
  /** Body bytes when `body` is 'length'. */
  readonly contentLength: number;
  /** The client wants the connection kept open after the response. */
  readonly keepAlive: boolean;
  /** `Expect: 100-continue` was sent. */
  readonly expectContinue: boolean;
  /** Upgrade with `Connection: upgrade`: the connection changes protocol after the response. */
  readonly upgrade: boolean;
}

/** Like Node's default `maxHeaderSize`. */
export const MAX_HEAD_BYTES = 16 * 1024;

// Neither pattern lets a control character (HTAB aside, in a value) through, a bare CR or LF
// included: a CR or LF that is not part of a line's CRLF fails them.
const REQUEST_LINE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+ [^ \x00-\x1F\x7F]+ HTTP\/\d\.\d$/;
/** One field line without its CRLF: a token, a colon, a value without control characters. */
const FIELD = "[!#$%&'*+.^_`|~0-9A-Za-z-]+:[^\\x00-\\x08\\x0A-\\x1F\\x7F]*";
/** All the field lines at once: one regex run per head rather than one per line. */
const FIELD_LINES = new RegExp(`^(?:${FIELD}\\r\\n)*$`);
/** One line, to name the reason once FIELD_LINES has refused a head. */
const FIELD_LINE = new RegExp(`^${FIELD}$`);
/** Control characters other than HTAB, a CR not followed by LF, an LF not preceded by CR. */
const FORBIDDEN = /[\x00-\x08\x0B\x0C\x0E-\x1F\x7F]|\r(?!\n)|(?<!\r)\n/;
/** The fields framing reads; the others pass as text. */
const WATCHED = new NameShapes([
  'host',
  'expect',
  'upgrade',
  'connection',
  'content-length',
  'transfer-encoding',
]);

/** Throws on a bare CR or LF or a control character: checks a whole head, or the part that has arrived. */
export function checkHeadBytes(text: string): void {
  if (FORBIDDEN.test(text)) throw new ClientHttpError(400, 'bare CR, LF or a control character');
}

/** `head` is the latin1 text from the request line up to, not including, the blank line's CRLFCRLF. */
export function parseRequestHead(head: string): RequestHead {
  const lineEnd = head.indexOf('\r\n');
  const firstLine = lineEnd === -1 ? head : head.slice(0, lineEnd);
  // test(), not exec(): no result array and group strings per request. Once the pattern holds,
  // the line is `method SP target SP HTTP/d.d` with no other space, and the parts are found by
  // position.
  if (!REQUEST_LINE.test(firstLine)) {
    checkHeadBytes(firstLine);
    throw new ClientHttpError(400, 'malformed request line');
  }
  const versionStart = firstLine.length - 'HTTP/d.d'.length;
  const majorCode = firstLine.charCodeAt(versionStart + 5);
  const minorCode = firstLine.charCodeAt(versionStart + 7);
  if (majorCode !== 49 || (minorCode !== 48 && minorCode !== 49))
    throw new ClientHttpError(505, 'only HTTP/1.0 and HTTP/1.1 are served here');
  const minor = minorCode === 49 ? 1 : 0;
  const methodEnd = firstLine.indexOf(' ');
  // The commonest method as a constant: a short slice is a fresh string every time.
  const method = methodEnd === 3 && firstLine.startsWith('GET') ? 'GET' : firstLine.slice(0, methodEnd);
  const url = firstLine.slice(methodEnd + 1, versionStart - 1);
  const fields = lineEnd === -1 ? '' : `${head.slice(lineEnd + 2)}\r\n`;
  if (!FIELD_LINES.test(fields)) throw fieldLineError(fields);

  let contentLength = -1;
  let transferEncodings = 0;
  let chunked = false;
  let hosts = 0;
  let connection = '';
  let expect: string | undefined;
  let hasUpgrade = false;
  for (let start = 0; start < fields.length;) {
    const end = fields.indexOf('\r\n', start);
    const colon = fields.indexOf(':', start);
    const nameLength = colon - start;
    // Only the few fields framing reads are looked at; the rest pass as text.
    if (WATCHED.has(nameLength, fields.charCodeAt(start))) {
      const name = fields.slice(start, colon).toLowerCase();
      switch (name) {
        case 'host':
          hosts += 1;
          break;
        case 'expect': {
          // Every Expect field must be 100-continue; one other expectation is a 417.
          const value = fieldValue(fields, colon + 1, end).toLowerCase();
          expect = expect === undefined || expect === value ? value : 'mixed';
          break;
        }
        case 'upgrade':
          hasUpgrade = true;
          break;
        case 'connection':
          connection += `,${fieldValue(fields, colon + 1, end).toLowerCase()}`;
          break;
        case 'content-length': {
          const value = fieldValue(fields, colon + 1, end);
          if (contentLength !== -1) throw new ClientHttpError(400, 'more than one Content-Length');
          contentLength = contentLengthValue(value);
          if (contentLength === -1) throw new ClientHttpError(400, 'malformed Content-Length');
          break;
        }
        case 'transfer-encoding':
          transferEncodings += 1;
          chunked = fieldValue(fields, colon + 1, end).toLowerCase() === 'chunked';
          break;
      }
    }
    start = end + 2;
  }

  if (transferEncodings > 0) {
    if (transferEncodings > 1) throw new ClientHttpError(400, 'more than one Transfer-Encoding');
    if (!chunked) throw new ClientHttpError(400, 'a Transfer-Encoding other than chunked');
    if (contentLength !== -1) throw new ClientHttpError(400, 'Content-Length with Transfer-Encoding');
    if (minor === 0) throw new ClientHttpError(400, 'Transfer-Encoding on an HTTP/1.0 request');
  }
  if (minor === 1 && hosts === 0) throw new ClientHttpError(400, 'missing Host');
  if (hosts > 1) throw new ClientHttpError(400, 'more than one Host header');

  const tokens = connection === '' ? [] : connection.split(',').map((token) => token.trim());
  const keepAlive = minor === 1 ? !tokens.includes('close') : tokens.includes('keep-alive');
  if (expect !== undefined && expect !== '100-continue')
    throw new ClientHttpError(417, 'only Expect: 100-continue is understood');
  return {
    method,
    url,
    httpVersionMajor: 1,
    httpVersionMinor: minor,
    fields,
    body: chunked ? 'chunked' : contentLength > 0 ? 'length' : 'none',
    contentLength: Math.max(0, contentLength),
    keepAlive,
    expectContinue: expect === '100-continue',
    upgrade: hasUpgrade && tokens.includes('upgrade'),
  };
}

/** The reason the first bad line of `fields` is refused (only called once one is known to be bad). */
function fieldLineError(fields: string): ClientHttpError {
  for (const line of fields.slice(0, -2).split('\r\n')) {
    if (FIELD_LINE.test(line)) continue;
    checkHeadBytes(line);
    const first = line.charCodeAt(0);
    return new ClientHttpError(400, first === 32 || first === 9 ? 'obs-fold' : 'malformed header field');
  }
  return new ClientHttpError(400, 'malformed header field');
}
