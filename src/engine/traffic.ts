import type { Router, RouterObservation } from '../shared/router.js';
import type { RoutingState, Store } from '../shared/store.js';
import { CutoverError, asCutoverError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { Mutex } from '../shared/mutex.js';
import { SLOTS, sameWeights, type Slot, type SlotTargets, type Weights } from '../shared/slot.js';

export type DesiredRouting = Omit<RoutingState, 'updatedAt' | 'app'>;

const EMPTY_TARGETS: SlotTargets = { blue: [], green: [] };

/**
 * The one place traffic is moved. Each move is written to the store first (write-ahead),
 * then applied, then read back and compared with what was asked (invariants 2 and 6).
 */
export class TrafficController {
  private readonly mutex = new Mutex();

  constructor(
    private readonly app: string,
    private readonly store: Store,
    private readonly router: Router,
    private readonly logger: Logger,
  ) {}

  current(): RoutingState {
    return (
      this.store.getRouting(this.app) ?? {
        app: this.app,
        liveSlot: null,
        weights: { blue: 100, green: 0 },
        targets: EMPTY_TARGETS,
        releases: {},
        updatedAt: new Date(0).toISOString(),
      }
    );
  }

  /** Write the desired routing, apply it to the router and verify the read-back. */
  apply(desired: DesiredRouting): Promise<RouterObservation> {
    return this.mutex.run(async () => {
      const previous = this.current();
      this.store.setRouting({ app: this.app, ...desired });
      // Instances are added before weights move onto them and removed only after weights have
      // moved off them, so no step sends traffic to a slot with no instances (invariant 1).
      const staged = stagedTargets(previous, desired);
      try {
        await this.router.prepare(staged);
        await this.router.setWeights(desired.weights);
        if (staged !== desired.targets) await this.router.prepare(desired.targets);
      } catch (error) {
        throw asCutoverError(error, 'CUTOVER_E_ROUTER');
      }
      const observed = await this.router.verify();
      if (observed.kind === 'observed' && !sameWeights(observed.weights, desired.weights)) {
        throw new CutoverError(
          'CUTOVER_E_VERIFY',
          `router reports blue ${observed.weights.blue}% / green ${observed.weights.green}% after asking for blue ${desired.weights.blue}% / green ${desired.weights.green}%`,
          { details: { asked: desired.weights, observed: observed.weights } },
        );
      }
      if (observed.kind === 'converging') {
        // Until the engine waits for convergence under a deadline, an unsettled move is not done.
        throw new CutoverError('CUTOVER_E_VERIFY', `router has not settled yet: ${observed.seen}`, {
          details: { asked: desired.weights, seen: observed.seen },
        });
      }
      if (observed.kind === 'unverifiable') {
        this.logger.debug('traffic.unverifiable', { reason: observed.reason });
      }
      this.logger.info('traffic.applied', { weights: desired.weights, liveSlot: desired.liveSlot });
      return observed;
    });
  }

  /** Change only the instance lists (weights unchanged). */
  setTargets(slot: Slot, targets: SlotTargets[Slot], release?: string): Promise<RouterObservation> {
    const now = this.current();
    const releases = { ...now.releases };
    if (release === undefined) delete releases[slot];
    else releases[slot] = release;
    return this.apply({
      liveSlot: now.liveSlot,
      weights: now.weights,
      targets: { ...now.targets, [slot]: targets },
      releases,
    });
  }

  moveWeights(weights: Weights, liveSlot: Slot | null): Promise<RouterObservation> {
    const now = this.current();
    return this.apply({ liveSlot, weights, targets: now.targets, releases: now.releases });
  }
}

/**
 * The targets to prepare before the weights move: the desired ones, except that a slot which
 * may still carry traffic (weight in the previous routing) and is being emptied keeps its
 * instances until the weights have moved off it.
 */
function stagedTargets(previous: DesiredRouting, desired: DesiredRouting): SlotTargets {
  let staged = desired.targets;
  for (const slot of SLOTS) {
    const emptied = desired.targets[slot].length === 0 && previous.targets[slot].length > 0;
    if (emptied && previous.weights[slot] > 0) staged = { ...staged, [slot]: previous.targets[slot] };
  }
  return staged;
}
