/**
 * A browser session uses the admin API's own routes, so every action is validated, carried out
 * and audited exactly as the CLI's. The session stands in for the bearer token, which the page
 * never sees; the body's `requestedBy` is replaced by the logged-in user, so the audit log
 * names who clicked (`api:dashboard:<user>`).
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { readJsonBody } from '../server/http-json.js';

/** What a session may read through the admin API. */
const READABLE = [
  /^\/v1\/status$/,
  /^\/v1\/deployments$/,
  /^\/v1\/deployments\/[\w.-]+$/,
  /^\/v1\/audit$/,
  /^\/v1\/logs$/,
];
/** What a session may change: deploy, promote, abort, rollback. */
const CHANGING = [/^\/v1\/deployments$/, /^\/v1\/(?:deployments\/[\w.-]+\/)?(?:promote|abort|rollback)$/];

export function sessionMayUse(method: string | undefined, pathname: string): boolean {
  if (method === 'GET') return READABLE.some((pattern) => pattern.test(pathname));
  if (method === 'POST') return CHANGING.some((pattern) => pattern.test(pathname));
  return false;
}

export function auditName(user: string): string {
  return `dashboard:${user}`;
}

export async function forwardToAdminApi(
  adminApi: RequestListener,
  request: IncomingMessage,
  response: ServerResponse,
  token: string,
  user: string,
): Promise<void> {
  const headers = { ...request.headers, authorization: `Bearer ${token}` };
  delete headers.cookie;
  if (request.method === 'GET') {
    // No body to rewrite: the request goes on as it came, holding the token in memory only.
    request.headers = headers;
    adminApi(request, response);
    return;
  }
  const body = await readJsonBody(request);
  const payload = Buffer.from(JSON.stringify({ ...body, requestedBy: auditName(user) }));
  // The admin API reads a request's method, url, headers and body stream: a readable with those
  // fields is that request with its body replaced.
  const rewritten = Object.assign(Readable.from([payload]), {
    method: request.method,
    url: request.url,
    headers: { ...headers, 'content-type': 'application/json', 'content-length': String(payload.length) },
    socket: request.socket,
  }) as unknown as IncomingMessage;
  adminApi(rewritten, response);
}
