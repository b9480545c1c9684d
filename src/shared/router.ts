import type { PlannedStep } from './plan.js';
import type { Slot, SlotEndpoints, SlotTargets, Weights } from './slot.js';

/** What a router can do. The engine and config validation read this; nothing is assumed. */
export interface RouterCapabilities {
  /** Can move all traffic from one slot to the other in one step, with no instant serving both. */
  readonly atomic: boolean;
  /** Can split new requests between the slots by weight (needed by the `shift` strategy). */
  readonly weighted: boolean;
  /** How test traffic reaches the idle slot only. */
  readonly preview: 'header' | 'port' | 'header-and-port' | 'none';
  /** Can copy a share of live requests to the idle slot. */
  readonly mirror: boolean;
  /** verify() reads back the data plane (not just our own last request). */
  readonly verifiable: boolean;
  /** drainStatus() can count what is still in flight on a slot. */
  readonly drainCounts: boolean;
  /**
   * Kinds of platform endpoint (`SlotEndpoint.kind`) this router can route a slot to; absent or
   * empty: it routes to host:port instances only.
   */
  readonly endpointKinds?: readonly string[];
}

export interface RouterDescription {
  readonly kind: string;
  /** Which way a router with several modes works (nginx: `reload` or `lua`). */
  readonly mode?: string;
  readonly capabilities: RouterCapabilities;
}

/** How a smoke test reaches the idle slot: a URL and headers to send with each request. */
export interface PreviewRoute {
  readonly slot: Slot;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * What the data plane does now, read back from it. "Cannot verify" is an explicit value,
 * never undefined: the engine decides what an unverifiable router means for a move.
 */
export type RouterObservation =
  | {
      readonly kind: 'observed';
      readonly weights: Weights;
      /** Addresses the data plane would send each slot's share to, when the router can tell. */
      readonly targets?: SlotTargets;
    }
  /**
   * The data plane is moving toward what was asked but has not settled (a load balancer, a
   * target group or a DNS record is eventually consistent). `seen` says what it shows now; the
   * engine asks again until it is observed, or fails the move at its deadline.
   */
  | {
      readonly kind: 'converging';
      readonly seen: string;
      readonly weights?: Weights;
    }
  | { readonly kind: 'unverifiable'; readonly reason: string };

export type DrainStatus =
  | { readonly kind: 'counted'; readonly inFlight: number; readonly connections: number }
  | { readonly kind: 'unknown'; readonly reason: string };

export interface DrainOptions {
  /** After this instant the router may close whatever is still open on the slot (WebSockets with 1001). */
  readonly deadline: Date;
}

/**
 * A Router moves traffic between the two slots. Every method is idempotent: the engine may
 * call any of them again after a crash, with the same arguments, and nothing changes twice.
 */
export interface Router {
  describe(): RouterDescription;
  /** Start whatever the router holds (listeners, sockets, config files). Safe to call twice. */
  open(): Promise<void>;
  /**
   * Set what stands behind each slot: its instances, and for a platform whose slot is a group,
   * its endpoint (only for routers whose capabilities list that endpoint's kind). Does not
   * change weights.
   */
  prepare(targets: SlotTargets, endpoints?: SlotEndpoints): Promise<void>;
  /** Route test traffic to `slot` only (never to live users); returns how to reach it. */
  preview(slot: Slot): Promise<PreviewRoute>;
  /** Move new requests. An atomic switch is {0,100} or {100,0}. */
  setWeights(weights: Weights): Promise<void>;
  /** Read back what the data plane does now. */
  verify(): Promise<RouterObservation>;
  /** Stop sending the slot new work and close its idle connections; force-close at the deadline. */
  drain(slot: Slot, options: DrainOptions): Promise<void>;
  drainStatus(slot: Slot): Promise<DrainStatus>;
  /** Forget the slot's instances (after it is retired). */
  cleanup(slot: Slot): Promise<void>;
  /** Release what open() took. Safe to call twice. */
  close(): Promise<void>;
  /**
   * Optional (`cutover deploy --plan`), called on an open router: the calls setWeights(weights)
   * would make after the slots stand behind `move.endpoints` (the new slot's endpoint as the
   * platform plans it: it may not exist yet), in order, with the waits between them. Reads the
   * data plane with describe calls only. Throws what prepare()/setWeights() would throw (a live
   * slot's group that is gone). A router without it makes `--plan` refuse, naming the router.
   * A cloud router adds it by computing each call's input with the same function its executor
   * sends (see src/aws/planned-call.ts and docs/aws.md "Plan").
   */
  planMove?(move: PlannedMove): Promise<PlannedStep[]>;
  /**
   * Optional, with planMove: what drain(slot) would do or wait for, at most `deadlineMs`, with
   * the slots behind `endpoints` (the router is not prepared while a plan is made).
   */
  planDrain?(slot: Slot, options: { deadlineMs: number; endpoints: SlotEndpoints }): Promise<PlannedStep[]>;
  /**
   * Optional, with planMove: what cleanup(slot) would send when the slot is retired, after the
   * moves planned so far. Without it the plan says cleanup makes no call (true of routers whose
   * move already took the slot out).
   */
  planCleanup?(slot: Slot): Promise<PlannedStep[]>;
}

/** One traffic move a plan asks a router about: the switch, or one step of a shift. */
export interface PlannedMove {
  /** The slot live now (null: the first deploy). */
  readonly from: Slot | null;
  readonly to: Slot;
  readonly weights: Weights;
  /** What stands behind each slot once the new one is provisioned (the new one as planned). */
  readonly endpoints: SlotEndpoints;
}

/** Whether a router with these capabilities can route a slot to a platform endpoint of `kind`. */
export function routesToEndpointKind(capabilities: RouterCapabilities, kind: string): boolean {
  return (capabilities.endpointKinds ?? []).includes(kind);
}
