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
  readonly request: ClientRequest;
  readonly onOverdue: (reason: string) => void;
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
   * it misses a limit. A body cut short by the answer never looks complete upstream: its stream
   * closes, and forwarding drops the upstream connection (see body-arrived-whole.ts).
   */
  watch(request: ClientRequest, response: ClientResponse, onOverdue: (reason: string) => void): void {
    const watched: WatchedBody = { progress: new BodyProgress(Date.now()), request, onOverdue };
    this.bodies.add(watched);
    request.on('data', (chunk: Buffer) => {
      watched.progress.bytes += chunk.length;
    });
    request.on('end', () => this.bodies.delete(watched));
    response.on('close', () => this.bodies.delete(watched));
  }

  close(): void {
    clearInterval(this.timer);
    this.bodies.clear();
  }

  private sweep(now: number): void {
    for (const watched of this.bodies) {
      // Paused: forwarding stopped reading it because the upstream is slower (not the client's fault).
      const paused = (watched.request as unknown as Readable).isPaused();
      const overdue = watched.progress.overdue(now, this.limits, paused);
      if (overdue === undefined) continue;
      this.bodies.delete(watched);
      watched.onOverdue(overdue);
    }
  }
}
