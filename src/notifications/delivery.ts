import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../shared/logger.js';
import type { NotificationEventName } from './config.js';
import { signDelivery } from './signature.js';

const BACKOFF_FIRST_MS = 1_000;
const BACKOFF_MAX_MS = 30_000;
/** Events waiting for one notifier; past this the oldest is dropped (and said so) rather than memory growing. */
export const QUEUE_LIMIT = 100;

/** One receiver: where, how long an attempt may take, how often to try, and how to sign. */
export interface DeliveryTarget {
  readonly name: string;
  readonly url: string;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly signingKey?: Buffer;
}

interface Pending {
  readonly id: string;
  readonly event: NotificationEventName;
  readonly body: string;
}

/**
 * Posts one notifier's documents in order, one at a time, each retried with exponential backoff
 * until it is accepted (2xx) or its attempts run out. `enqueue` never waits, so the engine that
 * emits never does; a receiver that is down costs a bounded queue and log lines, nothing more.
 */
export class DeliveryQueue {
  private readonly queue: Pending[] = [];
  /** The drain loop now under way, if any; close() waits for it. */
  private running: Promise<void> | undefined;
  private draining = false;
  private closing = false;
  /** Wakes a backoff at close: the last attempt is made now, not after the wait. */
  private readonly closed = new AbortController();
  /** Past the flush deadline at close: what is still queued is dropped, and said so. */
  private expired = false;
  private readonly inFlight = new Set<AbortController>();

  constructor(
    private readonly target: DeliveryTarget,
    private readonly logger: Logger,
    private readonly userAgent: string,
  ) {}

  enqueue(event: NotificationEventName, body: string): void {
    if (this.closing) return;
    if (this.queue.length >= QUEUE_LIMIT) {
      const dropped = this.queue.shift();
      this.logger.warn('notification.dropped', {
        notifier: this.target.name,
        notification: dropped?.event,
        why: `more than ${QUEUE_LIMIT} events waiting`,
      });
    }
    this.queue.push({ id: randomUUID(), event, body });
    if (this.draining) return;
    this.draining = true;
    this.running = this.drain();
  }

  /**
   * Stops retrying: what is queued gets one last attempt each, within the notifier's timeout
   * overall, so a one-shot CLI exits on time whatever the receiver does.
   */
  async close(): Promise<void> {
    this.closing = true;
    this.closed.abort();
    const deadline = setTimeout(() => {
      this.expired = true;
      for (const controller of this.inFlight) controller.abort();
    }, this.target.timeoutMs);
    try {
      await this.running;
    } finally {
      clearTimeout(deadline);
    }
  }

  /**
   * Sends until the queue is empty. `draining` goes false in the same synchronous step that
   * finds the queue empty, so an event enqueued by any later microtask starts a new loop rather
   * than waiting behind one that has already finished.
   */
  private async drain(): Promise<void> {
    try {
      for (let next = this.queue.shift(); next !== undefined; next = this.queue.shift()) {
        if (this.expired) {
          this.logger.warn('notification.dropped', {
            notifier: this.target.name,
            notification: next.event,
            why: 'cutover stopped before it could be sent',
          });
        } else {
          await this.deliver(next);
        }
      }
    } finally {
      this.draining = false;
    }
  }

  private async deliver(pending: Pending): Promise<void> {
    const attempts = this.target.retries + 1;
    for (let attempt = 1; ; attempt += 1) {
      const failure = await this.attempt(pending);
      if (failure === undefined) {
        this.logger.debug('notification.sent', {
          notifier: this.target.name,
          notification: pending.event,
          attempt,
        });
        return;
      }
      const last = attempt >= attempts || this.closing;
      this.logger.warn(last ? 'notification.failed' : 'notification.retrying', {
        notifier: this.target.name,
        notification: pending.event,
        attempt,
        of: attempts,
        error: failure,
      });
      if (last) return;
      await this.backoff(attempt);
    }
  }

  /** undefined when the receiver took it; else why not, in words that hold no URL. */
  private async attempt(pending: Pending): Promise<string | undefined> {
    const controller = new AbortController();
    this.inFlight.add(controller);
    const timer = setTimeout(() => controller.abort(), this.target.timeoutMs);
    try {
      const response = await fetch(this.target.url, {
        method: 'POST',
        headers: this.headers(pending),
        body: pending.body,
        signal: controller.signal,
        // A redirect could carry the signed body somewhere else: a receiver must answer itself.
        redirect: 'manual',
      });
      await response.body?.cancel().catch(() => undefined);
      return response.status >= 200 && response.status < 300 ? undefined : `HTTP ${response.status}`;
    } catch (error) {
      return controller.signal.aborted ? `no answer within ${this.target.timeoutMs} ms` : networkError(error);
    } finally {
      clearTimeout(timer);
      this.inFlight.delete(controller);
    }
  }

  private headers(pending: Pending): Record<string, string> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': this.userAgent,
      'x-cutover-event': pending.event,
      'x-cutover-delivery': pending.id,
    };
    if (this.target.signingKey !== undefined) {
      const timestamp = Math.floor(Date.now() / 1000);
      headers['x-cutover-timestamp'] = String(timestamp);
      headers['x-cutover-signature'] = signDelivery(this.target.signingKey, timestamp, pending.body);
    }
    return headers;
  }

  private async backoff(attempt: number): Promise<void> {
    const ms = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** (attempt - 1));
    // Jitter: receivers recovering from an outage are not hit by every sender at once.
    const jittered = ms / 2 + Math.random() * (ms / 2);
    await sleep(jittered, undefined, { signal: this.closed.signal }).catch(() => undefined);
  }
}

/** The error's code (ECONNREFUSED, ECONNRESET …): fetch's messages and causes may name the URL. */
function networkError(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown } } | undefined)?.cause;
  if (cause && typeof cause.code === 'string') return cause.code;
  return error instanceof Error && error.name !== 'TypeError' ? error.name : 'network error';
}
