/**
 * An independent, strict reader of HTTP/1.1 request streams for the differential fuzz test.
 * It is not the proxy's parser (src/proxy/http1): it is written from RFC 9112 with the limits
 * the proxy documents (docs/security.md), in two modes:
 *   - 'client': what a strict server reads from the bytes a client sent. The proxy must forward
 *     exactly these requests, in this order, each with this method, target, body and
 *     end-to-end fields, and nothing past the first error, upgrade or close.
 *   - 'upstream': what the proxy itself wrote upstream, held to the proxy's own framing: no
 *     empty lines, HTTP/1.1, exactly one Host, Content-Length in plain digits or
 *     `Transfer-Encoding: chunked` (never both), chunk sizes in lower-case hex without
 *     extensions, no trailers, no hop-by-hop field.
 */

export interface ParsedRequest {
  readonly method: string;
  readonly target: string;
  readonly version: '1.0' | '1.1';
  /** [name as sent, value trimmed] in order. */
  readonly fields: ReadonlyArray<readonly [string, string]>;
  readonly body: string;
  /** Where the request's bytes end in the stream. */
  readonly end: number;
}

export type StreamStop =
  /** Every byte read, ending at a request boundary. */
  | 'end'
  /** The bytes end inside a request. */
  | 'partial'
  /** A request the server must refuse (its status in `error`). */
  | 'error'
  /** The last request closes the connection (Connection: close, or HTTP/1.0 without keep-alive). */
  | 'close'
  /** A protocol upgrade: nothing after it is HTTP. */
  | 'upgrade';

export interface ParsedStream {
  readonly requests: ParsedRequest[];
  readonly stop: StreamStop;
  readonly error?: string;
}

export type ParseMode = 'client' | 'upstream';

const MAX_HEAD = 16 * 1024;
const MAX_CHUNK_LINE = 4 * 1024;
const MAX_TRAILERS = 16 * 1024;
const TCHAR = "!#$%&'*+.^_`|~0-9A-Za-z-";
const REQUEST_LINE = new RegExp(`^([${TCHAR}]+) ([^\\x00-\\x20\\x7F]+) HTTP/(\\d)\\.(\\d)$`);
const FIELD_LINE = new RegExp(`^([${TCHAR}]+):([^\\x00-\\x08\\x0A-\\x1F\\x7F]*)$`);
const CHUNK_SIZE = /^([0-9A-Fa-f]{1,15})(?:;[\t\x20-\x7E\x80-\xFF]*)?$/;
const UPSTREAM_CHUNK_SIZE = /^(?:0|[1-9a-f][0-9a-f]{0,14})$/;
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-connection',
  'expect',
]);

class Refused extends Error {}
class Incomplete extends Error {}

function trimOws(value: string): string {
  return value.replace(/^[ \t]+|[ \t]+$/g, '');
}

/** Reads as many requests from `text` (latin1) as it holds. */
export function parseRequestStream(text: string, mode: ParseMode): ParsedStream {
  const requests: ParsedRequest[] = [];
  let pos = 0;
  for (;;) {
    if (mode === 'client') while (text.startsWith('\r\n', pos)) pos += 2;
    if (pos >= text.length) return { requests, stop: 'end' };
    try {
      const { request, stop } = readRequest(text, pos, mode);
      if (stop !== 'upgrade') requests.push(request);
      if (stop !== undefined) return { requests, stop };
      pos = request.end;
    } catch (error) {
      if (error instanceof Incomplete) return { requests, stop: 'partial' };
      if (error instanceof Refused) return { requests, stop: 'error', error: error.message };
      throw error;
    }
  }
}

function readRequest(
  text: string,
  start: number,
  mode: ParseMode,
): { request: ParsedRequest; stop?: StreamStop } {
  const headEnd = text.indexOf('\r\n\r\n', start);
  const headLength = (headEnd === -1 ? text.length : headEnd) - start;
  if (headLength > MAX_HEAD) throw new Refused('431 head too large');
  if (headEnd === -1) {
    // The part that arrived can already be refused: a bare CR or LF, a control character.
    const partial = text.slice(start, text.endsWith('\r') ? -1 : undefined);
    if (/[\x00-\x08\x0B\x0C\x0E-\x1F\x7F]|\r(?!\n)|(?<!\r)\n/.test(partial))
      throw new Refused('400 bad bytes');
    throw new Incomplete();
  }
  const lines = text.slice(start, headEnd).split('\r\n');
  const line = REQUEST_LINE.exec(lines[0]!);
  if (line === null) throw new Refused('400 request line');
  const [, method, target, major, minor] = line as unknown as [string, string, string, string, string];
  if (major !== '1' || (minor !== '0' && minor !== '1')) throw new Refused('505 version');
  if (mode === 'upstream' && minor !== '1') throw new Refused('upstream: not HTTP/1.1');
  const fields: Array<[string, string]> = [];
  for (const fieldLine of lines.slice(1)) {
    const field = FIELD_LINE.exec(fieldLine);
    if (field === null) throw new Refused('400 field line');
    fields.push([field[1]!, trimOws(field[2]!)]);
  }
  const named = (name: string): string[] =>
    fields.filter(([fieldName]) => fieldName.toLowerCase() === name).map(([, value]) => value);

  const lengths = named('content-length');
  const encodings = named('transfer-encoding');
  const hosts = named('host');
  if (lengths.length > 1) throw new Refused('400 two Content-Lengths');
  if (lengths.length === 1 && !/^\d{1,15}$/.test(lengths[0]!)) throw new Refused('400 Content-Length');
  if (encodings.length > 1) throw new Refused('400 two Transfer-Encodings');
  if (encodings.length === 1 && encodings[0]!.toLowerCase() !== 'chunked') throw new Refused('400 coding');
  if (encodings.length === 1 && lengths.length === 1) throw new Refused('400 both framings');
  if (encodings.length === 1 && minor === '0') throw new Refused('400 Transfer-Encoding on 1.0');
  if (minor === '1' && hosts.length === 0) throw new Refused('400 no Host');
  if (hosts.length > 1) throw new Refused('400 two Hosts');
  const tokens = named('connection')
    .join(',')
    .split(',')
    .map((token) => trimOws(token).toLowerCase());
  const expect = named('expect').map((value) => value.toLowerCase());
  if (expect.some((value) => value !== '100-continue')) throw new Refused('417 expectation');
  if (mode === 'upstream') {
    if (lengths.length === 1 && !/^(?:0|[1-9]\d*)$/.test(lengths[0]!))
      throw new Refused('upstream: length form');
    if (encodings.length === 1 && encodings[0] !== 'chunked') throw new Refused('upstream: coding form');
    for (const [name] of fields)
      if (HOP_BY_HOP.has(name.toLowerCase()) && name.toLowerCase() !== 'transfer-encoding')
        throw new Refused(`upstream: hop-by-hop ${name}`);
    if (named('x-forwarded-for').length !== 1) throw new Refused('upstream: X-Forwarded-For count');
  }

  let pos = headEnd + 4;
  let body = '';
  if (encodings.length === 1) {
    for (;;) {
      const lineEnd = text.indexOf('\r\n', pos);
      if (lineEnd === -1) {
        if (text.indexOf('\n', pos) !== -1) throw new Refused('400 bare LF in chunk line');
        if (text.length - pos > MAX_CHUNK_LINE) throw new Refused('400 chunk line too long');
        throw new Incomplete();
      }
      if (lineEnd - pos > MAX_CHUNK_LINE) throw new Refused('400 chunk line too long');
      const sizeLine = text.slice(pos, lineEnd);
      const size = CHUNK_SIZE.exec(sizeLine);
      if (size === null) throw new Refused('400 chunk size');
      if (mode === 'upstream' && !UPSTREAM_CHUNK_SIZE.test(sizeLine))
        throw new Refused('upstream: chunk size form');
      const length = parseInt(size[1]!, 16);
      pos = lineEnd + 2;
      if (length === 0) break;
      if (text.length < pos + length + 2) {
        if (text.length > pos + length && text[pos + length] !== '\r') throw new Refused('400 chunk longer');
        throw new Incomplete();
      }
      body += text.slice(pos, pos + length);
      if (text[pos + length] !== '\r') throw new Refused('400 chunk longer than its size');
      if (text[pos + length + 1] !== '\n') throw new Refused('400 chunk not followed by CRLF');
      pos += length + 2;
    }
    let trailerBytes = 0;
    for (;;) {
      const lineEnd = text.indexOf('\r\n', pos);
      if (lineEnd === -1) {
        if (text.indexOf('\n', pos) !== -1) throw new Refused('400 bare LF in trailers');
        if (text.length - pos > MAX_TRAILERS) throw new Refused('400 trailer too long');
        throw new Incomplete();
      }
      if (lineEnd - pos > MAX_TRAILERS) throw new Refused('400 trailer line too long');
      const trailer = text.slice(pos, lineEnd);
      pos = lineEnd + 2;
      if (trailer === '') break;
      if (mode === 'upstream') throw new Refused('upstream: trailers');
      trailerBytes += trailer.length + 2;
      if (
        trailerBytes > MAX_TRAILERS ||
        !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+:[\t\x20-\x7E\x80-\xFF]*$/.test(trailer)
      )
        throw new Refused('400 trailer');
    }
  } else if (lengths.length === 1) {
    const length = Number(lengths[0]);
    if (text.length < pos + length) throw new Incomplete();
    body = text.slice(pos, pos + length);
    pos += length;
  }
  const request: ParsedRequest = {
    method,
    target,
    version: minor === '1' ? '1.1' : '1.0',
    fields,
    body,
    end: pos,
  };
  if (mode === 'client' && named('upgrade').length > 0 && tokens.includes('upgrade'))
    return { request, stop: 'upgrade' };
  const keepAlive = minor === '1' ? !tokens.includes('close') : tokens.includes('keep-alive');
  return keepAlive ? { request } : { request, stop: 'close' };
}

/** Fields Connection cannot make hop-by-hop at the proxy (see src/proxy/forwarded-headers.ts). */
const PROTECTED = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-request-id',
]);
/** Fields the proxy reads, sets or drops itself: never compared as end-to-end. */
const PROXY_FIELDS = new Set([
  ...HOP_BY_HOP,
  'x-cutover-preview',
  'content-length',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-request-id',
]);

/** The end-to-end fields a client request must reach its upstream with, in order. */
export function endToEndFields(request: ParsedRequest): Array<readonly [string, string]> {
  const named = new Set(
    request.fields
      .filter(([name]) => name.toLowerCase() === 'connection')
      .flatMap(([, value]) => value.split(',').map((token) => trimOws(token).toLowerCase()))
      .filter((token) => !PROTECTED.has(token)),
  );
  return request.fields.filter(
    ([name]) => !PROXY_FIELDS.has(name.toLowerCase()) && !named.has(name.toLowerCase()),
  );
}

/** The fields the proxy itself sent upstream that a client field accounts for (all but its own). */
export function forwardedFields(request: ParsedRequest): Array<readonly [string, string]> {
  return request.fields.filter(([name]) => !PROXY_FIELDS.has(name.toLowerCase()));
}
