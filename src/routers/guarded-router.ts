/**
 * The one place the routing invariants are enforced, above every router (undici's dispatcher
 * base, as a wrapper): `createRouter` wraps each router in a GuardedRouter, so a bad move is
 * refused with the same code whichever router sits below, before it reaches the data plane.
 * Routers keep only the mechanics of applying a move.
 *
 * - Weights: whole percents from 0 to 100 adding up to 100 (CUTOVER_E_INVALID_WEIGHTS).
 * - No slot without instances (or a platform endpoint standing for them) gains weight
 *   (CUTOVER_E_EMPTY_SLOT). A slot may keep the share it had: the engine's baseline before the
 *   first deploy is "blue 100 %, nothing running", and it re-asserts blue 100 % while green is
 *   being prepared. When neither slot has instances the
 *   weights decide nothing (no request can be served either way) and any split is accepted.
 * - No preview of a slot without instances (CUTOVER_E_EMPTY_SLOT).
 * - No cleanup of a slot that still takes live traffic, and no prepare() that takes the last
 *   instance (and the endpoint) away from one (CUTOVER_E_SLOT_LIVE).
 * - No prepare() with an endpoint of a kind the router's capabilities do not list in
 *   `endpointKinds` (CUTOVER_E_ENDPOINT_KIND): config validation refuses the pairing first.
 * - verify() may answer `unverifiable` only when the router's capabilities say it cannot read
 *   back; otherwise that answer becomes CUTOVER_E_VERIFY (invariant 6, never silent).
 * - One lifecycle: open() and close() are idempotent and safe to call twice or at once; every
 *   call between close() and the next open() is refused with CUTOVER_E_ROUTER_CLOSED; one
 *   mutex serializes every call, so a deploy's move and a rollback's never interleave.
 */
import { CutoverError } from '../shared/errors.js';
import { Mutex } from '../shared/mutex.js';
import { SLOTS, type Slot, type SlotEndpoints, type SlotTargets, type Weights } from '../shared/slot.js';
import type {
  DrainOptions,
  DrainStatus,
  PreviewRoute,
  Router,
  RouterDescription,
  RouterObservation,
} from '../shared/router.js';

/** What the engine assumes before anything was applied: blue 100 %, nothing running. */
const BASELINE_WEIGHTS: Weights = { blue: 100, green: 0 };

type Lifecycle = 'new' | 'open' | 'closed';

export class GuardedRouter implements Router {
  private readonly mutex = new Mutex();
  private lifecycle: Lifecycle = 'new';
  private closing: Promise<void> | undefined;
  /** What this guard last let through: the data plane's state as far as cutover asked for it. */
  private targets: SlotTargets | undefined;
  private endpoints: SlotEndpoints = {};
  private weights: Weights | undefined;

  /** Present only when the inner router can plan (`cutover deploy --plan` asks before it calls). */
  readonly planMove?: Router['planMove'];
  readonly planDrain?: Router['planDrain'];
  readonly planCleanup?: Router['planCleanup'];

  constructor(private readonly inner: Router) {
    if (inner.planMove !== undefined) {
      // Async: a refused move rejects like every other router call, it never throws at the caller.
      this.planMove = async (move) => {
        refuseInvalidWeights(move.weights);
        return inner.planMove!(move);
      };
    }
    if (inner.planDrain !== undefined) this.planDrain = (slot, options) => inner.planDrain!(slot, options);
    if (inner.planCleanup !== undefined) this.planCleanup = (slot) => inner.planCleanup!(slot);
  }

  describe(): RouterDescription {
    return this.inner.describe();
  }

  /** Opens the router; a second call (or one while open) does nothing. Opens again after close(). */
  open(): Promise<void> {
    return this.mutex.run(async () => {
      if (this.lifecycle === 'open') return;
      await this.inner.open();
      this.lifecycle = 'open';
    });
  }

  /**
   * Runs `step` under the guard's lock and lifecycle without opening the guard: the control
   * server's two-phase open of the builtin router (state first, listener after) goes through here.
   */
  exclusive<T>(step: () => Promise<T>): Promise<T> {
    // Checked when the call is made: a call accepted before close() still runs, and close()
    // waits for it (see close()).
    if (this.lifecycle === 'closed') {
      return Promise.reject(
        new CutoverError(
          'CUTOVER_E_ROUTER_CLOSED',
          `the ${this.inner.describe().kind} router is closed; open it again first`,
        ),
      );
    }
    return this.mutex.run(step);
  }

  prepare(targets: SlotTargets, endpoints?: SlotEndpoints): Promise<void> {
    return this.exclusive(async () => {
      this.refuseUnknownEndpointKinds(endpoints ?? {});
      this.refuseEmptyingLiveSlot(targets, endpoints ?? {});
      await (endpoints === undefined ? this.inner.prepare(targets) : this.inner.prepare(targets, endpoints));
      this.targets = targets;
      this.endpoints = endpoints ?? {};
    });
  }

  preview(slot: Slot): Promise<PreviewRoute> {
    return this.exclusive(async () => {
      const targets = await this.knownTargets();
      if (targets[slot].length === 0 && this.endpoints[slot] === undefined) {
        throw new CutoverError(
          'CUTOVER_E_EMPTY_SLOT',
          `cannot preview ${slot}: it has no instances; prepare it first`,
          { details: { slot } },
        );
      }
      return this.inner.preview(slot);
    });
  }

  setWeights(weights: Weights): Promise<void> {
    return this.exclusive(async () => {
      refuseInvalidWeights(weights);
      await this.refuseWeightOnEmptySlot(weights);
      await this.inner.setWeights(weights);
      this.weights = { blue: weights.blue, green: weights.green };
    });
  }

  verify(): Promise<RouterObservation> {
    return this.exclusive(() => this.verifyUnlocked());
  }

  drain(slot: Slot, options: DrainOptions): Promise<void> {
    return this.exclusive(() => this.inner.drain(slot, options));
  }

  drainStatus(slot: Slot): Promise<DrainStatus> {
    return this.exclusive(() => this.inner.drainStatus(slot));
  }

  cleanup(slot: Slot): Promise<void> {
    return this.exclusive(async () => {
      const weights = await this.liveWeights();
      if (weights !== undefined && weights[slot] > 0) {
        throw new CutoverError(
          'CUTOVER_E_SLOT_LIVE',
          `cannot clean up ${slot}: it still takes ${weights[slot]}% of live traffic`,
          { details: { slot, weights } },
        );
      }
      await this.inner.cleanup(slot);
      if (this.targets !== undefined) this.targets = { ...this.targets, [slot]: [] };
      const { [slot]: _cleaned, ...endpoints } = this.endpoints;
      this.endpoints = endpoints;
    });
  }

  /** Closes once; a second call, or one while closing, waits for the same close. */
  close(): Promise<void> {
    if (this.lifecycle === 'closed') return this.closing ?? Promise.resolve();
    this.lifecycle = 'closed';
    // Queued behind every call already accepted: they finish before the router lets go.
    this.closing = this.mutex.run(() => this.inner.close());
    return this.closing;
  }

  private async verifyUnlocked(): Promise<RouterObservation> {
    const seen = await this.inner.verify();
    if (seen.kind === 'unverifiable' && this.inner.describe().capabilities.verifiable) {
      throw new CutoverError(
        'CUTOVER_E_VERIFY',
        `the ${this.inner.describe().kind} router declares verifiable but could not read back what its data plane does: ${seen.reason}`,
        { details: { reason: seen.reason } },
      );
    }
    return seen;
  }

  /** The instances per slot: what was last prepared, else what the data plane reports, else none. */
  private async knownTargets(): Promise<SlotTargets> {
    if (this.targets !== undefined) return this.targets;
    const seen = await this.inner.verify();
    return seen.kind === 'observed' && seen.targets !== undefined ? seen.targets : { blue: [], green: [] };
  }

  /**
   * The weights live traffic follows now: what the data plane reports when it can tell (a hand
   * edit counts), else what this guard last applied, else undefined (nothing was ever applied).
   */
  private async liveWeights(): Promise<Weights | undefined> {
    const seen = await this.inner.verify();
    return seen.kind === 'observed' ? seen.weights : this.weights;
  }

  /**
   * prepare() may not take the last instance away from a slot that takes live traffic (move the
   * weights off it first), unless it empties both slots (nothing runs anywhere).
   */
  private refuseEmptyingLiveSlot(targets: SlotTargets, endpoints: SlotEndpoints): void {
    const weights = this.weights;
    const empty = (slot: Slot): boolean => targets[slot].length === 0 && endpoints[slot] === undefined;
    if (weights === undefined || SLOTS.every(empty)) return;
    for (const slot of SLOTS) {
      const had = (this.targets?.[slot].length ?? 0) > 0 || this.endpoints[slot] !== undefined;
      const emptied = empty(slot) && had;
      if (emptied && weights[slot] > 0) {
        throw new CutoverError(
          'CUTOVER_E_SLOT_LIVE',
          `cannot take every instance away from ${slot}: it still takes ${weights[slot]}% of live traffic; move traffic first`,
          { details: { slot, weights } },
        );
      }
    }
  }

  /** An endpoint goes only to a router that lists its kind in `endpointKinds`. */
  private refuseUnknownEndpointKinds(endpoints: SlotEndpoints): void {
    const { kind, capabilities } = this.inner.describe();
    const understood = capabilities.endpointKinds ?? [];
    for (const slot of SLOTS) {
      const endpoint = endpoints[slot];
      if (endpoint === undefined || understood.includes(endpoint.kind)) continue;
      throw new CutoverError(
        'CUTOVER_E_ENDPOINT_KIND',
        `the ${kind} router cannot route ${slot} to a ${endpoint.kind} endpoint (${endpoint.id}); it takes ${understood.length > 0 ? understood.join(', ') : 'host:port instances only'}`,
        { details: { slot, endpoint, endpointKinds: understood } },
      );
    }
  }

  /**
   * A slot of an endpoint platform may have no host:port instances the router knows of (the
   * group stands for them); a slot with neither is empty.
   */
  private async refuseWeightOnEmptySlot(weights: Weights): Promise<void> {
    const targets = await this.knownTargets();
    const isEmpty = (slot: Slot): boolean => targets[slot].length === 0 && this.endpoints[slot] === undefined;
    const empty = SLOTS.filter((slot) => isEmpty(slot) && weights[slot] > 0);
    if (empty.length === 0 || SLOTS.every(isEmpty)) return;
    const before = this.weights ?? (await this.liveWeights()) ?? BASELINE_WEIGHTS;
    for (const slot of empty) {
      if (weights[slot] > before[slot]) {
        throw new CutoverError(
          'CUTOVER_E_EMPTY_SLOT',
          `cannot send ${weights[slot]}% of live traffic to ${slot}: it has no instances (it had ${before[slot]}%)`,
          { details: { slot, asked: weights, before } },
        );
      }
    }
  }
}

/** Whole percents from 0 to 100 adding up to 100. */
export function isWholePercentSplit(weights: Weights): boolean {
  const valid = SLOTS.every(
    (slot) => Number.isInteger(weights[slot]) && weights[slot] >= 0 && weights[slot] <= 100,
  );
  return valid && weights.blue + weights.green === 100;
}

function refuseInvalidWeights(weights: Weights): void {
  if (!isWholePercentSplit(weights)) {
    throw new CutoverError(
      'CUTOVER_E_INVALID_WEIGHTS',
      `weights must be whole percents from 0 to 100 adding up to 100, got blue ${weights.blue} and green ${weights.green}`,
      { details: { asked: weights } },
    );
  }
}

/** Wraps a router in the guard layer; a router already guarded is returned as it is. */
export function guardRouter(router: Router): GuardedRouter {
  return router instanceof GuardedRouter ? router : new GuardedRouter(router);
}
