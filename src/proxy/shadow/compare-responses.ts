/**
 * Compares the live slot's answer with the shadow slot's for one mirrored request:
 * - the status;
 * - the configured header fields (`mirror.compare.headers`), by value;
 * - the body: a body over `maxBodyBytes` on either side is compared by its SHA-256 (exact
 *   bytes, nothing ignored); a JSON body (a `json` Content-Type on the live side, and both
 *   sides parse) is compared as JSON with the ignored paths left out; any other body byte by
 *   byte, the first differing offset and line reported.
 */
import { diffJson, type JsonDifference } from './json-diff.js';
import type { JsonPath } from './json-path.js';
import { JsonSyntaxError, parseJson, type JsonValue } from './json-value.js';
import type { CapturedResponse } from './captured-response.js';

export type BodyDifference =
  | { readonly kind: 'json'; readonly paths: readonly string[]; readonly more: boolean }
  /** offset: the first differing byte (0-based); line: its line (1-based). */
  | { readonly kind: 'bytes'; readonly offset: number; readonly line: number }
  /** Over maxBodyBytes on either side: only the hashes were compared. */
  | { readonly kind: 'hash'; readonly liveBytes: number; readonly shadowBytes: number };

export interface ResponseDifference {
  readonly status: boolean;
  /** The compared header fields whose values differ (lowercased names). */
  readonly headers: readonly string[];
  readonly body: BodyDifference | undefined;
}

export interface ComparisonRules {
  readonly headers: readonly string[];
  readonly ignore: readonly JsonPath[];
}

const JSON_TYPE = /^[^;]*\bjson\b/i;

/** undefined when the two answers are alike by the rules. */
export function compareResponses(
  live: CapturedResponse,
  shadow: CapturedResponse,
  rules: ComparisonRules,
): ResponseDifference | undefined {
  const status = live.status !== shadow.status;
  const headers = rules.headers.filter((name) => live.headers[name] !== shadow.headers[name]);
  const body = compareBodies(live, shadow, rules.ignore);
  if (!status && headers.length === 0 && body === undefined) return undefined;
  return { status, headers, body };
}

function compareBodies(
  live: CapturedResponse,
  shadow: CapturedResponse,
  ignore: readonly JsonPath[],
): BodyDifference | undefined {
  if (live.truncated || shadow.truncated) {
    if (live.sha256 === shadow.sha256 && live.bodyBytes === shadow.bodyBytes) return undefined;
    return { kind: 'hash', liveBytes: live.bodyBytes, shadowBytes: shadow.bodyBytes };
  }
  const a = live.body();
  const b = shadow.body();
  if (live.contentType !== undefined && JSON_TYPE.test(live.contentType)) {
    const difference = compareAsJson(a, b, ignore);
    if (difference !== 'not json') {
      return difference === undefined ? undefined : { kind: 'json', ...difference };
    }
  }
  if (a.equals(b)) return undefined;
  return firstDifference(a, b);
}

function compareAsJson(
  a: Buffer,
  b: Buffer,
  ignore: readonly JsonPath[],
): JsonDifference | undefined | 'not json' {
  const left = readJson(a);
  const right = readJson(b);
  if (left === undefined || right === undefined) return 'not json';
  return diffJson(left, right, ignore);
}

function readJson(body: Buffer): JsonValue | undefined {
  try {
    return parseJson(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch (error) {
    if (error instanceof JsonSyntaxError || error instanceof TypeError) return undefined;
    throw error;
  }
}

function firstDifference(a: Buffer, b: Buffer): BodyDifference {
  let offset = 0;
  const shorter = Math.min(a.length, b.length);
  while (offset < shorter && a[offset] === b[offset]) offset += 1;
  let line = 1;
  for (let i = 0; i < offset; i += 1) if (a[i] === 0x0a) line += 1;
  return { kind: 'bytes', offset, line };
}
