/**
 * One HTTP exchange with an analysis source (a Prometheus server, a webhook), bounded every way a
 * hostile or broken source could hold the deployment: a deadline on the whole exchange (headers
 * and body), a cap on the body, no redirects (a redirect could carry a token or a signed body
 * elsewhere). Every failure is a CUTOVER_E_ANALYSIS_PROVIDER whose message names the source by
 * its provider name, never by its URL (a URL may carry a token).
 */
import { CutoverError } from '../shared/errors.js';
import { CUTOVER_VERSION } from '../shared/version.js';

export interface ExchangeRequest {
  /** The provider's name, for messages. */
  readonly source: string;
  readonly url: URL;
  readonly method: 'GET' | 'POST';
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly timeoutMs: number;
  readonly maxBytes: number;
  /** The engine's: a rollback or a stop cuts the exchange short. */
  readonly signal: AbortSignal;
}

export interface ExchangeAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
}

export async function boundedExchange(request: ExchangeRequest): Promise<ExchangeAnswer> {
  const deadline = AbortSignal.timeout(request.timeoutMs);
  const signal = AbortSignal.any([deadline, request.signal]);
  const fail = (why: string, cause?: unknown): CutoverError =>
    new CutoverError('CUTOVER_E_ANALYSIS_PROVIDER', `${request.source}: ${why}`, { cause });
  const whyAborted = (error: unknown): CutoverError =>
    deadline.aborted
      ? fail(`no complete answer within ${request.timeoutMs} ms`)
      : request.signal.aborted
        ? fail('the check was cut short')
        : fail(networkError(error), error);
  let response: Response;
  try {
    response = await fetch(request.url, {
      method: request.method,
      headers: { 'user-agent': `cutover/${CUTOVER_VERSION}`, ...request.headers },
      ...(request.body === undefined ? {} : { body: request.body }),
      signal,
      redirect: 'manual',
    });
  } catch (error) {
    throw whyAborted(error);
  }
  if (response.status >= 300 && response.status < 400) {
    await response.body?.cancel().catch(() => undefined);
    throw fail(`answered a redirect (HTTP ${response.status}); give the final address`);
  }
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > request.maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw fail(`answer of ${declared} bytes is over the ${request.maxBytes}-byte cap`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    const reader = response.body?.getReader();
    for (;;) {
      const chunk = reader === undefined ? { done: true as const } : await reader.read();
      if (chunk.done) break;
      size += chunk.value.byteLength;
      if (size > request.maxBytes) {
        await reader?.cancel().catch(() => undefined);
        throw fail(`answer is over the ${request.maxBytes}-byte cap`);
      }
      chunks.push(chunk.value);
    }
  } catch (error) {
    if (error instanceof CutoverError) throw error;
    throw whyAborted(error);
  }
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? '',
    text: Buffer.concat(chunks).toString('utf8'),
  };
}

/** The error's code (ECONNREFUSED, ECONNRESET …): fetch's messages and causes may name the URL. */
function networkError(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown } } | undefined)?.cause;
  if (cause && typeof cause.code === 'string') return `cannot reach it (${cause.code})`;
  return 'cannot reach it (network error)';
}
