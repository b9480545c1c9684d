/**
 * The request body limits (body-deadline.ts) on the TLS listener, whose requests come from
 * node:http2 (HTTP/2 streams, and HTTP/1.1 beside them) rather than the proxy's own HTTP/1.1
 * server. The plain listener checks bodies in its connection sweep; here the bodies in progress
 * are kept in a set and one timer sweeps them, so a request still arms no timer of its own.
 */
import type { Readable } from 'node:stream';
import { BodyProgress, type BodyLimits } from './body-deadline.js';
import type { ClientRequest, ClientResponse } from './forward.js';

interface WatchedBody {
  readonly progress: BodyProgress;
  readonly request: WatchedRequest;
  readonly onOverdue: (reason: string) => void;
}

/**
 * The request as forwarding sees it. node:http2 ends a request's body when its stream closes,
 * complete or not; a body cut for its limits must not look complete upstream (a chunked body
 * would be closed with its last chunk and served truncated), so after a cut its end is not
 * passed on and forwarding drops the upstream connection it was writing to.
 */
class WatchedRequest implements ClientRequest {
  cut = false;
  readonly method: string | undefined;
  readonly url: string | undefined;
  readonly httpVersionMajor: number;
  readonly httpVersionMinor: number;
  readonly socket: { readonly remoteAddress?: string | undefined };

  constructor(readonly original: ClientRequest) {
    this.method = original.method;
    this.url = original.url;
    this.httpVersionMajor = original.httpVersionMajor;
    this.httpVersionMinor = original.httpVersionMinor;
    this.socket = original.socket;
  }

  get rawHeaders(): string[] {
    return this.original.rawHeaders;
  }

  on(event: 'data', listener: (chunk: Buffer) => void): this;
  on(event: 'end', listener: () => void): this;
  on(event: 'data' | 'end', listener: (chunk: Buffer) => void): this {
    if (event === 'data') this.original.on('data', listener);
    else
      this.original.on('end', () => {
        if (!this.cut) (listener as () => void)();
      });
    return this;
  }

  pause(): this {
    this.original.pause();
    return this;
  }

  resume(): this {
    this.original.resume();
    return this;
  }
}

export class StreamBodyLimits {
  private readonly bodies = new Set<WatchedBody>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly limits: BodyLimits) {
    const interval = Math.max(
      100,
      Math.min(1_000, Math.floor(Math.min(limits.timeoutMs, limits.rateWindowMs) / 2)),
    );
    this.timer = setInterval(() => this.sweep(Date.now()), interval);
    this.timer.unref();
  }

  /**
   * Follows the request's body until it ends or its response closes; `onOverdue` runs once if
   * it misses a limit. Returns the request forwarding must use (see WatchedRequest).
   */
  watch(
    request: ClientRequest,
    response: ClientResponse,
    onOverdue: (reason: string) => void,
  ): ClientRequest {
    const watchedRequest = new WatchedRequest(request);
    const watched: WatchedBody = {
      progress: new BodyProgress(Date.now()),
      request: watchedRequest,
      onOverdue,
    };
    this.bodies.add(watched);
    request.on('data', (chunk: Buffer) => {
      watched.progress.bytes += chunk.length;
    });
    request.on('end', () => this.bodies.delete(watched));
    response.on('close', () => this.bodies.delete(watched));
    return watchedRequest;
  }

  close(): void {
    clearInterval(this.timer);
    this.bodies.clear();
  }

  private sweep(now: number): void {
    for (const watched of this.bodies) {
      // Paused: forwarding stopped reading it because the upstream is slower (not the client's fault).
      const paused = (watched.request.original as unknown as Readable).isPaused();
      const overdue = watched.progress.overdue(now, this.limits, paused);
      if (overdue === undefined) continue;
      this.bodies.delete(watched);
      watched.request.cut = true;
      watched.onOverdue(overdue);
    }
  }
}
