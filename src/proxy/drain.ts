/**
 * What is still open on each slot, and the drain of a slot that lost its weight: idle upstream
 * sockets close at once, busy ones when their response completes, WebSockets get 1001 at the
 * deadline. In-flight HTTP requests are never cut. Client connections are not touched at all:
 * they are not bound to a slot, each request picks its slot when it arrives.
 */
import type { Slot } from '../shared/slot.js';
import type { Upstream } from './upstream-pool.js';
import type { WebSocketTunnel } from './websocket.js';

export class SlotActivity {
  /** HTTP requests sent to this slot whose response has not completed. */
  inFlight = 0;
  readonly tunnels = new Set<WebSocketTunnel>();
}

export interface SlotDrainStatus {
  readonly inFlight: number;
  readonly webSockets: number;
  /** When open WebSockets will be closed with 1001, if a drain is under way. */
  readonly deadline: Date | undefined;
}

export class SlotDrain {
  private timer: NodeJS.Timeout | undefined;
  private deadline: Date | undefined;

  constructor(
    readonly slot: Slot,
    private readonly activity: SlotActivity,
    private readonly upstreams: () => readonly Upstream[],
  ) {}

  /** Idempotent: a second call only moves the deadline. */
  start(deadline: Date): void {
    for (const upstream of this.upstreams()) {
      upstream.setKeepIdleSockets(false);
      upstream.closeIdleSockets();
    }
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.deadline = deadline;
    const delay = Math.max(0, deadline.getTime() - Date.now());
    this.timer = setTimeout(() => this.atDeadline(), delay);
    this.timer.unref();
  }

  /** The slot is live again (a rollback): pool sockets again and keep its WebSockets. */
  cancel(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.deadline = undefined;
    for (const upstream of this.upstreams()) upstream.setKeepIdleSockets(true);
  }

  status(): SlotDrainStatus {
    return {
      inFlight: this.activity.inFlight,
      webSockets: this.activity.tunnels.size,
      deadline: this.deadline,
    };
  }

  private atDeadline(): void {
    this.timer = undefined;
    for (const tunnel of this.activity.tunnels) tunnel.goAway();
    for (const upstream of this.upstreams()) upstream.closeIdleSockets();
  }
}
