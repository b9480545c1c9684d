/**
 * A keep-alive load generator for tests and benches: N loops, each sending GETs one after
 * another over a pooled keep-alive connection, counting every failure the client sees.
 */
import http from 'node:http';

export interface LoadOptions {
  url: string;
  connections: number;
  headers?: Record<string, string>;
  /** Safety stop so a forgotten load never runs forever. */
  maxDurationMs?: number;
  /** Pause a loop this long after an error (while a server is down, say) instead of spinning. */
  errorBackoffMs?: number;
}

export interface LoadStats {
  sent: number;
  ok: number;
  failed: number;
  connectionErrors: number;
  non2xx: number;
  /** Responses counted by body (trimmed, first 64 characters). */
  bodies: Record<string, number>;
  firstErrors: string[];
}

export interface RunningLoad {
  stats(): LoadStats;
  stop(): Promise<LoadStats>;
}

const MAX_ERRORS_KEPT = 20;
const CONNECTION_ERROR_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED']);

export function startLoad(options: LoadOptions): RunningLoad {
  const url = new URL(options.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.connections });
  const stats: LoadStats = {
    sent: 0,
    ok: 0,
    failed: 0,
    connectionErrors: 0,
    non2xx: 0,
    bodies: {},
    firstErrors: [],
  };
  let running = true;
  const safety = setTimeout(() => {
    running = false;
  }, options.maxDurationMs ?? 120_000);

  const recordError = (message: string): void => {
    stats.failed += 1;
    if (stats.firstErrors.length < MAX_ERRORS_KEPT) stats.firstErrors.push(message);
  };

  const once = (): Promise<boolean> =>
    new Promise((resolve) => {
      stats.sent += 1;
      const request = http.request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname + url.search,
          method: 'GET',
          agent,
          headers: options.headers,
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', (error) => {
            recordError(`response: ${error.message}`);
            resolve(false);
          });
          response.on('end', () => {
            const body = Buffer.concat(chunks).toString('utf8').trim().slice(0, 64);
            const status = response.statusCode ?? 0;
            if (status >= 200 && status < 300) {
              stats.ok += 1;
              stats.bodies[body] = (stats.bodies[body] ?? 0) + 1;
            } else {
              stats.non2xx += 1;
              recordError(`HTTP ${status}: ${body}`);
            }
            resolve(status >= 200 && status < 300);
          });
        },
      );
      request.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code && CONNECTION_ERROR_CODES.has(error.code)) stats.connectionErrors += 1;
        recordError(`${error.code ?? 'error'}: ${error.message}`);
        resolve(false);
      });
      request.end();
    });

  const loops = Array.from({ length: options.connections }, async () => {
    while (running) {
      const ok = await once();
      if (!ok && options.errorBackoffMs)
        await new Promise((resolve) => setTimeout(resolve, options.errorBackoffMs));
    }
  });
  const done = Promise.all(loops);

  return {
    stats: () => ({ ...stats, bodies: { ...stats.bodies }, firstErrors: [...stats.firstErrors] }),
    stop: async () => {
      running = false;
      await done;
      clearTimeout(safety);
      agent.destroy();
      return { ...stats, bodies: { ...stats.bodies }, firstErrors: [...stats.firstErrors] };
    },
  };
}

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** What the wait is for, in its timeout error; a function is read only when the wait fails. */
  what?: string | (() => string);
}

/** Polls a condition until it holds; throws naming `what` when the deadline passes. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  options: WaitOptions = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  const interval = options.intervalMs ?? 20;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${options.timeoutMs ?? 10_000}ms waiting for ${describeWait(options.what)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}

/** `what` may be a function, so a message can say what was seen last, read when the wait fails. */
function describeWait(what: WaitOptions['what']): string {
  if (what === undefined) return 'condition';
  return typeof what === 'function' ? what() : what;
}
