/**
 * Limits on how a request body arrives: a deadline for the whole body and a minimum rate.
 * Without them a body that trickles one byte a minute holds a client socket, an upstream socket
 * and an app worker forever (the upstream response timeout never fires: each byte forwarded
 * counts as the upstream's progress).
 *
 * The rate is measured per window (`rateWindowMs`): a window that carried fewer than
 * `minBytesPerSecond` × its length fails the request with 408. The first window after the
 * head is a grace (a client may pause before its first bytes, as nginx's 60 s
 * client_body_timeout allows between reads); a small body sent slowly still gets that window
 * in full. Time during which the proxy itself stops reading the client (the upstream is slower
 * than the client) is not held against the client: a paused window starts again.
 *
 * Checked by the HTTP/1.1 server's sweep, like the header and idle timeouts: no timer per
 * request; a body pays one counter addition per read.
 */

export interface BodyLimits {
  /** The whole body must arrive within this, from the end of the head. */
  readonly timeoutMs: number;
  /** 0 turns the rate check off. */
  readonly minBytesPerSecond: number;
  readonly rateWindowMs: number;
}

/** The progress of one request body; the connection adds to `bytes`, the sweep calls overdue(). */
export class BodyProgress {
  /** Body bytes read so far (as framed on the wire). */
  bytes = 0;
  private windowStart: number;
  private bytesAtWindowStart = 0;
  private graceOver = false;

  constructor(private readonly startedAt: number) {
    this.windowStart = startedAt;
  }

  /** Why the body has failed its limits, or undefined while it keeps them. */
  overdue(now: number, limits: BodyLimits, readingPaused: boolean): string | undefined {
    if (readingPaused) {
      this.windowStart = now;
      this.bytesAtWindowStart = this.bytes;
      return undefined;
    }
    if (now - this.startedAt >= limits.timeoutMs)
      return `the request body did not arrive within ${limits.timeoutMs} ms`;
    const elapsed = now - this.windowStart;
    if (limits.minBytesPerSecond === 0 || elapsed < limits.rateWindowMs) return undefined;
    const received = this.bytes - this.bytesAtWindowStart;
    if (this.graceOver && received * 1000 < limits.minBytesPerSecond * elapsed)
      return `the request body arrived slower than ${limits.minBytesPerSecond} bytes/s (${received} bytes in ${elapsed} ms)`;
    this.graceOver = true;
    this.windowStart = now;
    this.bytesAtWindowStart = this.bytes;
    return undefined;
  }
}
