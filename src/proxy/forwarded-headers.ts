/**
 * Builds the header list sent upstream from the client's raw headers in one pass: drops
 * hop-by-hop headers (RFC 9110 §7.6.1), sets X-Forwarded-*, keeps or makes an X-Request-Id,
 * and picks out the few values routing needs. Works on rawHeaders so Node never builds the
 * lower-cased `headers` object for a proxied request.
 *
 * The request's framing is the proxy's own: the client's Content-Length and Transfer-Encoding
 * lines are never copied (forward.ts writes the framing of the body it sends), and Connection
 * can name neither them nor Host nor the fields the proxy sets (PROTECTED_FIELDS): a
 * `Connection: content-length` that dropped the length but not the body would make the
 * upstream read the body as the next request on a pooled connection.
 */
import { randomBytes } from 'node:crypto';
import { contentLengthValue, fieldValue, NameShapes, splitFields } from './field-text.js';

export interface ScannedRequest {
  /** The header lines for the upstream request, each `Name: value\r\n`, X-Forwarded-* included. */
  readonly fields: string;
  readonly previewValue: string | undefined;
  readonly cookie: string | undefined;
  readonly requestId: string;
  readonly hasBody: boolean;
  readonly isWebSocket: boolean;
  /** How many Host fields the request carried (more than one is a framing attack). */
  readonly hostCount: number;
  /** `fields` holds a Host line (the client's Host, or an HTTP/2 request's :authority). */
  readonly hasHostLine: boolean;
  readonly hasTransferEncoding: boolean;
  /** The Content-Length value; -1 without one, MALFORMED_LENGTH if unreadable or conflicting. */
  readonly contentLength: number;
  /** A Transfer-Encoding other than `chunked` alone (a coding the proxy would drop when re-chunking). */
  readonly otherCoding: boolean;
}

/** ScannedRequest.contentLength of a Content-Length that is not digits, or two that differ. */
export const MALFORMED_LENGTH = -2;

/** A scan of a header list, which also gives the upstream fields as a list (for http.request). */
export interface ScannedHeaderList extends ScannedRequest {
  /** Flat [name, value, name, value …] list for the upstream request. */
  readonly headers: string[];
}

export interface ScanOptions {
  /** Lower-cased name of the preview header; never forwarded (it carries a secret). */
  readonly previewHeader: string;
  readonly remoteAddress: string | undefined;
  readonly proto: 'http' | 'https';
  /** Keep Upgrade and Connection: upgrade (a WebSocket handshake). */
  readonly forUpgrade: boolean;
}

const VALID_REQUEST_ID = /^[A-Za-z0-9._:@+=/-]{1,128}$/;
const REQUEST_ID_PREFIX = `${randomBytes(6).toString('hex')}-`;
let requestCounter = 0;

/** Unique per process and cheap: a random prefix and a counter. */
export function newRequestId(): string {
  requestCounter += 1;
  return REQUEST_ID_PREFIX + requestCounter.toString(36);
}

/** Hop-by-hop fields (RFC 9110 §7.6.1): never passed on, in either direction. */
export const HOP_BY_HOP: readonly string[] = [
  'connection',
  'keep-alive',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-connection',
];

/**
 * Fields Connection cannot make hop-by-hop: the framing (written by the proxy), Host, and the
 * fields the proxy sets itself. Connection's own options are here too: they name no field.
 */
const PROTECTED_FIELDS = new Set([
  'close',
  'keep-alive',
  'upgrade',
  'host',
  'content-length',
  'transfer-encoding',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-request-id',
]);

/** Whether a lower-cased field name is hop-by-hop (a list scan: a fresh name string is not hashed). */
export function isHopByHop(lower: string): boolean {
  return HOP_BY_HOP.includes(lower);
}

/** Names the scan must look at, by shape, so most headers are passed through without lower-casing. */
const WATCHED = new Set([
  ...HOP_BY_HOP,
  'host',
  'cookie',
  'expect',
  'content-length',
  'x-request-id',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
]);
const watchedShapes = new NameShapes(WATCHED);

/** What one scan gathers from the fields it looks at; both scans below feed it. */
class FieldCollector {
  host: string | undefined;
  previewValue: string | undefined;
  cookie: string | undefined;
  requestId: string | undefined;
  forwardedFor: string | undefined;
  connectionTokens: string | undefined;
  upgrade: string | undefined;
  hasBody = false;
  hostCount = 0;
  hasTransferEncoding = false;
  contentLength = -1;
  otherCoding = false;

  constructor(private readonly options: ScanOptions) {}

  /** Whether a field whose name has this length and first character could need more than a copy. */
  static watches(nameLength: number, firstCode: number, options: ScanOptions): boolean {
    if (watchedShapes.has(nameLength, firstCode)) return true;
    const preview = options.previewHeader;
    return nameLength === preview.length && (firstCode | 0x20) === (preview.charCodeAt(0) | 0x20);
  }

  /** Notes one field (`lower`: its lower-cased name); true when it goes upstream as sent. */
  keeps(lower: string, value: string): boolean {
    if (lower === this.options.previewHeader) {
      this.previewValue = value;
      return false;
    }
    switch (lower) {
      case 'host':
        this.hostCount += 1;
        if (this.host !== undefined) return false;
        this.host = value;
        return true;
      case 'cookie':
        this.cookie = this.cookie === undefined ? value : `${this.cookie}; ${value}`;
        return true;
      case 'content-length': {
        // Read, never copied: the proxy writes the length of the body it sends.
        const length = contentLengthValue(value);
        this.contentLength =
          length === -1 || (this.contentLength !== -1 && this.contentLength !== length)
            ? MALFORMED_LENGTH
            : length;
        if (length !== 0) this.hasBody = true;
        return false;
      }
      case 'transfer-encoding':
        this.hasBody = true;
        if (this.hasTransferEncoding || value.toLowerCase() !== 'chunked') this.otherCoding = true;
        this.hasTransferEncoding = true;
        return false;
      case 'connection':
        this.connectionTokens =
          this.connectionTokens === undefined ? value : `${this.connectionTokens},${value}`;
        return false;
      case 'upgrade':
        this.upgrade = value;
        return false;
      case 'expect':
        // The proxy itself answered 100 Continue; the upstream gets the body without waiting.
        return false;
      case 'x-request-id':
        if (this.requestId === undefined && VALID_REQUEST_ID.test(value)) this.requestId = value;
        return false;
      case 'x-forwarded-for':
        this.forwardedFor = this.forwardedFor === undefined ? value : `${this.forwardedFor}, ${value}`;
        return false;
      case 'x-forwarded-host':
      case 'x-forwarded-proto':
      // The other hop-by-hop fields (HOP_BY_HOP), as cases: no list search per field.
      case 'keep-alive':
      case 'te':
      case 'trailer':
      case 'proxy-connection':
        return false;
      default:
        return true;
    }
  }

  /** The fields the proxy adds, as CRLF-terminated lines: X-Forwarded-For/-Proto, X-Request-Id, X-Forwarded-Host. */
  addedLines(): string {
    const host = this.host === undefined ? '' : `X-Forwarded-Host: ${this.host}\r\n`;
    return `X-Forwarded-For: ${this.forwardedForValue()}\r\nX-Forwarded-Proto: ${this.options.proto}\r\nX-Request-Id: ${this.ensureRequestId()}\r\n${host}`;
  }

  private forwardedForValue(): string {
    // A socket reset before it was read has no address: say so, never leave the last hop
    // empty (an upstream reading the last entry would fall back to one the client wrote).
    const remote = this.options.remoteAddress ?? 'unknown';
    return this.forwardedFor === undefined ? remote : `${this.forwardedFor}, ${remote}`;
  }

  private ensureRequestId(): string {
    this.requestId ??= newRequestId();
    return this.requestId;
  }

  result(fields: string, isWebSocket: boolean): ScannedRequest {
    return {
      fields,
      previewValue: this.previewValue,
      cookie: this.cookie,
      requestId: this.ensureRequestId(),
      hasBody: this.hasBody,
      isWebSocket,
      hostCount: this.hostCount,
      hasHostLine: this.host !== undefined,
      hasTransferEncoding: this.hasTransferEncoding,
      contentLength: this.contentLength,
      otherCoding: this.otherCoding,
    };
  }
}

/** The scan of a header list (node:http2's requests, and WebSocket handshakes). */
export function scanRequestHeaders(rawHeaders: readonly string[], options: ScanOptions): ScannedHeaderList {
  const out: string[] = [];
  const collector = new FieldCollector(options);
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    const value = rawHeaders[i + 1]!;
    if (name.charCodeAt(0) === 58 /* ':' HTTP/2 pseudo-header */) {
      // The authority stands for Host, without counting as a Host field.
      if (name === ':authority' && collector.host === undefined) {
        collector.host = value;
        out.push('host', value);
      }
      continue;
    }
    if (
      !FieldCollector.watches(name.length, name.charCodeAt(0), options) ||
      collector.keeps(name.toLowerCase(), value)
    )
      out.push(name, value);
  }

  // Headers the client named in Connection are hop-by-hop too.
  if (collector.connectionTokens !== undefined) removeConnectionNamed(out, collector.connectionTokens);

  const upgrade = collector.upgrade;
  const isWebSocket = options.forUpgrade && upgrade !== undefined && upgrade.toLowerCase() === 'websocket';
  if (isWebSocket) out.push('Connection', 'Upgrade', 'Upgrade', upgrade);
  out.push(...splitFields(collector.addedLines()));
  return { ...collector.result(fieldLines(out), isWebSocket), headers: out };
}

/**
 * The scan of an HTTP/1 request's field text (see field-text.ts), for an ordinary request:
 * the fields that go upstream unchanged are copied as text runs, not split into strings.
 */
export function scanRequestFields(fields: string, options: ScanOptions): ScannedRequest {
  const collector = new FieldCollector(options);
  let kept = '';
  let runStart = 0;
  for (let start = 0; start < fields.length;) {
    const end = fields.indexOf('\r\n', start);
    const colon = fields.indexOf(':', start);
    const next = end + 2;
    if (
      FieldCollector.watches(colon - start, fields.charCodeAt(start), options) &&
      !collector.keeps(fields.slice(start, colon).toLowerCase(), fieldValue(fields, colon + 1, end))
    ) {
      kept += fields.slice(runStart, start);
      runStart = next;
    }
    start = next;
  }
  const tokens = collector.connectionTokens;
  // Connection naming further fields to drop: rare, left to the list scan.
  if (tokens !== undefined && connectionNamedFields(tokens).size > 0)
    return scanRequestHeaders(splitFields(fields), options);
  kept += fields.slice(runStart);
  return collector.result(kept + collector.addedLines(), false);
}

/** A flat [name, value, …] list as CRLF-terminated lines. */
function fieldLines(list: readonly string[]): string {
  let lines = '';
  for (let i = 0; i < list.length; i += 2) lines += `${list[i]}: ${list[i + 1]}\r\n`;
  return lines;
}

/** The fields Connection's tokens name (other than its options and PROTECTED_FIELDS): hop-by-hop too. */
export function connectionNamedFields(tokens: string): Set<string> {
  const named = new Set<string>();
  // The usual values name no other header: skip the split.
  if (tokens.length <= 10 && /^(?:keep-alive|close|upgrade)$/i.test(tokens)) return named;
  for (const token of tokens.split(',')) {
    const lower = token.trim().toLowerCase();
    if (lower !== '' && !PROTECTED_FIELDS.has(lower)) named.add(lower);
  }
  return named;
}

function removeConnectionNamed(headers: string[], tokens: string): void {
  const named = connectionNamedFields(tokens);
  if (named.size === 0) return;
  for (let i = headers.length - 2; i >= 0; i -= 2) {
    if (named.has(headers[i]!.toLowerCase())) headers.splice(i, 2);
  }
}

/**
 * Filters an upstream response's raw headers for the client: drops hop-by-hop headers, those
 * named in Connection included. Returns the filtered flat list.
 */
export function filterResponseHeaders(rawHeaders: readonly string[]): string[] {
  const out: string[] = [];
  let connectionTokens: string | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    const value = rawHeaders[i + 1]!;
    const length = name.length;
    if (length !== 2 && length !== 7 && length !== 10 && length !== 16 && length !== 17) {
      out.push(name, value);
      continue;
    }
    const lower = name.toLowerCase();
    if (lower === 'connection') {
      connectionTokens = connectionTokens === undefined ? value : `${connectionTokens},${value}`;
      continue;
    }
    if (isHopByHop(lower)) continue;
    out.push(name, value);
  }
  if (connectionTokens !== undefined) removeConnectionNamed(out, connectionTokens);
  return out;
}

/** HTTP/2 responses take a header object; multi-valued headers (Set-Cookie) become arrays. */
export function headerListToObject(headers: readonly string[]): Record<string, string | string[]> {
  const object: Record<string, string | string[]> = {};
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!.toLowerCase();
    const value = headers[i + 1]!;
    const existing = object[name];
    if (existing === undefined) object[name] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else object[name] = [existing, value];
  }
  return object;
}
