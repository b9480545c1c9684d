/**
 * Builds the header list sent upstream from the client's raw headers in one pass: drops
 * hop-by-hop headers (RFC 9110 §7.6.1), sets X-Forwarded-*, keeps or makes an X-Request-Id,
 * and picks out the few values routing needs. Works on rawHeaders so Node never builds the
 * lower-cased `headers` object for a proxied request.
 */
import { randomBytes } from 'node:crypto';

export interface ScannedRequest {
  /** Flat [name, value, name, value …] list for the upstream request. */
  readonly headers: string[];
  readonly previewValue: string | undefined;
  readonly cookie: string | undefined;
  readonly requestId: string;
  readonly hasBody: boolean;
  readonly isWebSocket: boolean;
  /** How many Host fields the request carried (more than one is a framing attack). */
  readonly hostCount: number;
  readonly hasTransferEncoding: boolean;
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
const REQUEST_ID_PREFIX = randomBytes(6).toString('hex');
let requestCounter = 0;

/** Unique per process and cheap: a random prefix and a counter. */
export function newRequestId(): string {
  requestCounter += 1;
  return `${REQUEST_ID_PREFIX}-${requestCounter.toString(36)}`;
}

/** Hop-by-hop fields (RFC 9110 §7.6.1): never passed on, in either direction. */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-connection',
]);

/** Names the scan must look at, by length, so most headers are passed through without lower-casing. */
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
const watchedLengths = new Set<number>([...WATCHED].map((name) => name.length));

export function scanRequestHeaders(rawHeaders: readonly string[], options: ScanOptions): ScannedRequest {
  const out: string[] = [];
  let host: string | undefined;
  let previewValue: string | undefined;
  let cookie: string | undefined;
  let requestId: string | undefined;
  let forwardedFor: string | undefined;
  let connectionTokens: string | undefined;
  let upgrade: string | undefined;
  let hasBody = false;
  let hostCount = 0;
  let hasTransferEncoding = false;
  const previewLength = options.previewHeader.length;

  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    const value = rawHeaders[i + 1]!;
    const length = name.length;
    if (name.charCodeAt(0) === 58 /* ':' HTTP/2 pseudo-header */) {
      if (name === ':authority' && host === undefined) {
        host = value;
        out.push('host', value);
      }
      continue;
    }
    if (!watchedLengths.has(length) && length !== previewLength) {
      out.push(name, value);
      continue;
    }
    const lower = name.toLowerCase();
    if (lower === options.previewHeader) {
      previewValue = value;
      continue;
    }
    switch (lower) {
      case 'host':
        hostCount += 1;
        if (host === undefined) {
          host = value;
          out.push(name, value);
        }
        continue;
      case 'cookie':
        cookie = cookie === undefined ? value : `${cookie}; ${value}`;
        out.push(name, value);
        continue;
      case 'content-length':
        if (value !== '0') hasBody = true;
        out.push(name, value);
        continue;
      case 'transfer-encoding':
        hasBody = true;
        hasTransferEncoding = true;
        continue;
      case 'connection':
        connectionTokens = connectionTokens === undefined ? value : `${connectionTokens},${value}`;
        continue;
      case 'upgrade':
        upgrade = value;
        continue;
      case 'expect':
        // The proxy itself answered 100 Continue; the upstream gets the body without waiting.
        continue;
      case 'x-request-id':
        if (requestId === undefined && VALID_REQUEST_ID.test(value)) requestId = value;
        continue;
      case 'x-forwarded-for':
        forwardedFor = forwardedFor === undefined ? value : `${forwardedFor}, ${value}`;
        continue;
      case 'x-forwarded-host':
      case 'x-forwarded-proto':
        continue;
      default:
        if (HOP_BY_HOP.has(lower)) continue;
        out.push(name, value);
    }
  }

  // Headers the client named in Connection are hop-by-hop too.
  if (connectionTokens !== undefined) removeConnectionNamed(out, connectionTokens);

  const isWebSocket = options.forUpgrade && upgrade !== undefined && upgrade.toLowerCase() === 'websocket';
  if (isWebSocket) out.push('Connection', 'Upgrade', 'Upgrade', upgrade!);

  if (requestId === undefined) requestId = newRequestId();
  const remote = options.remoteAddress ?? '';
  out.push(
    'X-Forwarded-For',
    forwardedFor === undefined ? remote : `${forwardedFor}, ${remote}`,
    'X-Forwarded-Proto',
    options.proto,
    'X-Request-Id',
    requestId,
  );
  if (host !== undefined) out.push('X-Forwarded-Host', host);
  return {
    headers: out,
    previewValue,
    cookie,
    requestId,
    hasBody,
    isWebSocket,
    hostCount,
    hasTransferEncoding,
  };
}

function removeConnectionNamed(headers: string[], tokens: string): void {
  // The usual values name no other header: skip the split.
  if (tokens.length <= 10 && /^(?:keep-alive|close|upgrade)$/i.test(tokens)) return;
  const named = new Set<string>();
  for (const token of tokens.split(',')) {
    const lower = token.trim().toLowerCase();
    if (lower !== '' && lower !== 'close' && lower !== 'keep-alive' && lower !== 'upgrade') named.add(lower);
  }
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
    if (HOP_BY_HOP.has(lower)) continue;
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
