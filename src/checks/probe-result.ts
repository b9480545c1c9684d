/** The outcome of one probe of one target; `detail` is short and readable ("connection refused"). */
export interface ProbeResult {
  readonly healthy: boolean;
  readonly detail: string;
}

export interface ProbeOptions {
  /** Give up after this long; the check's own timeout unless a deadline is closer. */
  readonly timeoutMs: number;
  /** Abort the probe early (the result is then unhealthy with detail "aborted"). */
  readonly signal?: AbortSignal;
}

const ERROR_DETAILS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'host not found',
  EPIPE: 'connection closed',
};

/** A readable detail for a socket or spawn error. */
export function errorDetail(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code !== undefined && ERROR_DETAILS[code] !== undefined) return ERROR_DETAILS[code];
  return error instanceof Error ? error.message : String(error);
}

export const ABORTED: ProbeResult = { healthy: false, detail: 'aborted' };

/**
 * Runs one probe attempt that settles exactly once: with the attempt's own result, with
 * `timeoutDetail` when the timeout fires first, or as aborted. `start` begins the attempt and
 * returns how to tear it down (destroy its socket) once settled, whatever settled it.
 */
export function settleOnce(
  options: ProbeOptions,
  timeoutDetail: string,
  start: (finish: (result: ProbeResult) => void) => () => void,
): Promise<ProbeResult> {
  if (options.signal?.aborted) return Promise.resolve(ABORTED);
  return new Promise((resolve) => {
    let done = false;
    let teardown: (() => void) | undefined = undefined;
    const finish = (result: ProbeResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      teardown?.();
      resolve(result);
    };
    const timer = setTimeout(() => finish({ healthy: false, detail: timeoutDetail }), options.timeoutMs);
    const onAbort = () => finish(ABORTED);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    teardown = start(finish);
    // The attempt may have settled synchronously, before its teardown was known.
    if (done) teardown();
  });
}
