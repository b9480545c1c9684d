/**
 * What the smoke hook is told about the preview route (docs/routers.md, the init template):
 *
 * - PREVIEW_URL: where to send requests, without a trailing slash ("$PREVIEW_URL/healthz").
 * - PREVIEW_HEADER: the header that makes a request reach the idle slot, `Name: value`, for
 *   `curl -H "$PREVIEW_HEADER"`; empty when the route needs none (the builtin router's
 *   preview listener), which curl ignores.
 * - PREVIEW_CURL_ARGS: the same as curl arguments (`-H Name:value`), words without spaces or
 *   quotes, so an unquoted `curl $PREVIEW_CURL_ARGS "$PREVIEW_URL/"` splits them right.
 * - PREVIEW_HEADERS: every header, one `Name: value` per line (the name before PREVIEW_HEADER).
 *
 * The header value holds the app's preview token: the hook may use it, nothing else gets it.
 */
import type { PreviewRoute } from '../shared/router.js';

/** Characters a word may hold and still split right unquoted, and never glob. */
const PLAIN_WORD = /^[A-Za-z0-9_:.,@%+=/-]+$/;

export type SmokeHookEnv = Readonly<
  Record<'PREVIEW_URL' | 'PREVIEW_HEADER' | 'PREVIEW_HEADERS' | 'PREVIEW_CURL_ARGS', string>
>;

export function smokeHookEnv(route: PreviewRoute): SmokeHookEnv {
  const headers = Object.entries(route.headers).map(([name, value]) => ({ name, value }));
  return {
    PREVIEW_URL: route.url.replace(/\/+$/, ''),
    PREVIEW_HEADER: headers[0] === undefined ? '' : `${headers[0].name}: ${headers[0].value}`,
    PREVIEW_HEADERS: headers.map(({ name, value }) => `${name}: ${value}`).join('\n'),
    PREVIEW_CURL_ARGS: headers.map(({ name, value }) => `-H ${shellWord(`${name}:${value}`)}`).join(' '),
  };
}

/** The word as it is when plain, else single-quoted (for a header no router makes today). */
function shellWord(word: string): string {
  return PLAIN_WORD.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
