/**
 * A small client for Caddy's admin API. GET /config/<path> answers the value with an `Etag`
 * HTTP trailer (`"<path> <hash>"`); sending that back as `If-Match` makes a change fail with
 * 412 if the config under <path> changed since it was read (Caddy 2.6).
 *
 * Caddy 2.6 replaces its admin server on every config load and stops the old one in the
 * background, so a request that reaches the old one as it stops is reset before any answer.
 * Such a request was never handled; it is sent again on a new connection, a few times.
 */
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { CutoverError } from '../../shared/errors.js';

export interface ConfigRead {
  /** The JSON value at the path; null when nothing is there. */
  readonly value: unknown;
  readonly etag: string | undefined;
}

export interface UpstreamStatus {
  readonly address: string;
  readonly numRequests: number;
  readonly fails: number;
}

/** Someone else changed the config between our read and our write (HTTP 412). */
export class CaddyConfigChangedError extends CutoverError {
  constructor(path: string, message: string) {
    super(
      'CUTOVER_E_ROUTER',
      `Caddy's config under ${path} changed while cutover was updating it: ${message}`,
    );
  }
}

/** Errors meaning the connection died before Caddy answered (a refused one means Caddy is down). */
const NOT_ANSWERED = new Set(['ECONNRESET', 'EPIPE']);
const RESEND_ATTEMPTS = 5;
const RESEND_PAUSE_MS = 50;

/** One answer of the admin API, as it came. */
export interface AdminResponse {
  readonly status: number;
  readonly body: string;
  readonly trailers: NodeJS.Dict<string>;
  readonly headers: http.IncomingHttpHeaders;
}

export class CaddyAdmin {
  private readonly base: URL;

  constructor(
    adminUrl: string,
    private readonly timeoutMs: number,
  ) {
    this.base = new URL(adminUrl);
  }

  async read(path: string): Promise<ConfigRead> {
    const response = await this.request('GET', `/config/${path}`);
    if (response.status !== 200) throw this.refused('GET', path, response);
    const etag = response.trailers.etag ?? headerValue(response.headers.etag);
    return { value: parseJson(response.body, `/config/${path}`), etag };
  }

  /** POST replaces (or creates) the value at `path`; PATCH replaces an existing one; PUT creates. */
  async write(
    method: 'POST' | 'PATCH' | 'PUT',
    path: string,
    value: unknown,
    ifMatch?: string,
  ): Promise<void> {
    const response = await this.request(method, `/config/${path}`, JSON.stringify(value), ifMatch);
    if (response.status === 412) throw new CaddyConfigChangedError(`/config/${path}`, errorText(response));
    if (response.status < 200 || response.status >= 300) throw this.refused(method, path, response);
  }

  async upstreams(): Promise<UpstreamStatus[]> {
    const response = await this.request('GET', '/reverse_proxy/upstreams');
    if (response.status !== 200) throw this.refused('GET', 'reverse_proxy/upstreams', response);
    const parsed = parseJson(response.body, '/reverse_proxy/upstreams');
    if (!Array.isArray(parsed)) return [];
    return parsed.flatMap((entry: unknown) => {
      if (typeof entry !== 'object' || entry === null) return [];
      const { address, num_requests: numRequests, fails } = entry as Record<string, unknown>;
      if (typeof address !== 'string') return [];
      return [
        {
          address,
          numRequests: typeof numRequests === 'number' ? numRequests : 0,
          fails: typeof fails === 'number' ? fails : 0,
        },
      ];
    });
  }

  private refused(method: string, path: string, response: AdminResponse): CutoverError {
    return new CutoverError(
      'CUTOVER_E_ROUTER',
      `Caddy refused ${method} /config/${path} (HTTP ${response.status}): ${errorText(response)}`,
      { details: { status: response.status, body: response.body } },
    );
  }

  /**
   * One request to any admin path (`/config/…`, `/id/…`, `/load`, …), answered as it came,
   * whatever the status; a request reset before any answer is sent again (see the top).
   */
  async send(
    method: string,
    path: string,
    options: { body?: string; headers?: Readonly<Record<string, string>> } = {},
  ): Promise<AdminResponse> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.sendOnce(method, path, options.body, options.headers ?? {});
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (attempt >= RESEND_ATTEMPTS || code === undefined || !NOT_ANSWERED.has(code)) {
          throw new CutoverError(
            'CUTOVER_E_ROUTER',
            `cannot reach Caddy's admin API at ${this.base.origin}: ${(error as Error).message}`,
            { cause: error },
          );
        }
        await sleep(RESEND_PAUSE_MS * attempt);
      }
    }
  }

  private request(method: string, path: string, body?: string, ifMatch?: string): Promise<AdminResponse> {
    return this.send(method, path, { body, headers: ifMatch !== undefined ? { 'if-match': ifMatch } : {} });
  }

  private sendOnce(
    method: string,
    path: string,
    body: string | undefined,
    headers: Readonly<Record<string, string>>,
  ): Promise<AdminResponse> {
    const url = new URL(path, this.base);
    return new Promise((resolve, reject) => {
      const request = http.request(
        url,
        {
          method,
          // Caddy closes the connection after a config change; a fresh one each time is simplest.
          agent: false,
          headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', reject);
          response.on('end', () =>
            resolve({
              status: response.statusCode ?? 0,
              body: Buffer.concat(chunks).toString('utf8'),
              trailers: response.trailers,
              headers: response.headers,
            }),
          );
        },
      );
      request.setTimeout(this.timeoutMs, () =>
        request.destroy(new Error(`no answer within ${this.timeoutMs} ms`)),
      );
      request.on('error', reject);
      request.end(body);
    });
  }
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Caddy's errors are `{"error": "..."}`. */
function errorText(response: AdminResponse): string {
  try {
    const parsed = JSON.parse(response.body) as { error?: unknown };
    if (typeof parsed.error === 'string') return parsed.error;
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
  }
  return response.body.trim() || '(empty body)';
}

function parseJson(body: string, what: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch (error) {
    throw new CutoverError('CUTOVER_E_ROUTER', `Caddy answered ${what} with something other than JSON`, {
      cause: error,
    });
  }
}
