import type { Router, RouterObservation } from '../shared/router.js';
import type { RoutingReadBack, RoutingState, Store } from '../shared/store.js';
import { formatDuration } from '../shared/duration.js';
import { CutoverError, asCutoverError } from '../shared/errors.js';
import type { DeploymentEvents } from '../shared/events.js';
import type { Logger } from '../shared/logger.js';
import { Mutex } from '../shared/mutex.js';
import {
  SLOTS,
  sameWeights,
  type Slot,
  type SlotEndpoint,
  type SlotEndpoints,
  type SlotTargets,
  type Weights,
} from '../shared/slot.js';
import { sleep } from './gate.js';

export type DesiredRouting = Omit<RoutingState, 'updatedAt' | 'app' | 'readBack'>;

const EMPTY_TARGETS: SlotTargets = { blue: [], green: [] };

/** A converging router is asked again after this long, doubling up to the cap. */
const SETTLE_POLL_FIRST_MS = 100;
const SETTLE_POLL_MAX_MS = 5_000;

export interface TrafficTiming {
  readonly events: DeploymentEvents;
  /** The engine's clock: the settle deadline is measured on it. */
  readonly now: () => Date;
  /** How long a converging router gets to show the asked weights before the move fails. */
  readonly settleTimeoutMs: number;
}

/** Who a move is for, and what may cut its wait short. */
export interface MoveContext {
  /** The deployment the move is part of, named in its events; absent: the routing restored at start-up. */
  readonly deploymentId?: string;
  /** A shutdown, or a run woken for an abort, ends a wait for the router to settle. */
  readonly signal?: AbortSignal;
}

/**
 * The one place traffic is moved. Each move is written to the store first (write-ahead),
 * then applied, then read back and compared with what was asked (invariants 2 and 6). A
 * router that is still settling is asked again until it shows the asked weights or the settle
 * deadline passes; one that cannot read back is let through only as `unverifiable`, recorded
 * on the routing state and announced.
 */
export class TrafficController {
  private readonly mutex = new Mutex();

  constructor(
    private readonly app: string,
    private readonly store: Store,
    private readonly router: Router,
    private readonly logger: Logger,
    private readonly timing: TrafficTiming,
  ) {}

  async current(): Promise<RoutingState> {
    return (
      (await this.store.getRouting(this.app)) ?? {
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
  apply(desired: DesiredRouting, context: MoveContext = {}): Promise<RouterObservation> {
    return this.mutex.run(() => this.applyHoldingMutex(desired, context));
  }

  /** apply()'s body; the caller holds the mutex, so the routing it read is still the store's. */
  private async applyHoldingMutex(desired: DesiredRouting, context: MoveContext): Promise<RouterObservation> {
    const previous = await this.current();
    await this.record(desired, { kind: 'pending', since: this.at() });
    // Instances and endpoints are added before weights move onto them and removed only after
    // weights have moved off them, so no step sends traffic to an empty slot (invariant 1).
    const staged = stagedRouting(previous, desired);
    try {
      await this.router.prepare(staged.targets, staged.endpoints);
      await this.router.setWeights(desired.weights);
      if (staged.targets !== desired.targets || staged.endpoints !== endpointsOf(desired)) {
        await this.router.prepare(desired.targets, endpointsOf(desired));
      }
    } catch (error) {
      throw asCutoverError(error, 'CUTOVER_E_ROUTER');
    }
    const observed = await this.readBack(desired, context);
    if (observed.kind === 'observed' && !sameWeights(observed.weights, desired.weights)) {
      throw new CutoverError(
        'CUTOVER_E_VERIFY',
        `router reports blue ${observed.weights.blue}% / green ${observed.weights.green}% after asking for blue ${desired.weights.blue}% / green ${desired.weights.green}%`,
        { details: { asked: desired.weights, observed: observed.weights } },
      );
    }
    const unchecked = uncheckedReason(this.router, observed);
    if (unchecked !== undefined) {
      // Allowed only for a router whose capabilities say it cannot read back (the guard
      // refuses `unverifiable` otherwise), and never silent: recorded, announced, in `status`.
      // Logged at info: the event already reaches the deploy's progress once per move.
      await this.record(desired, { kind: 'unverifiable', reason: unchecked, at: this.at() });
      this.logger.info('traffic.unverifiable', { reason: unchecked, weights: desired.weights });
      this.announce(context, desired.weights, 'unverifiable', unchecked);
    } else {
      await this.record(desired, { kind: 'verified', at: this.at() });
    }
    this.logger.info('traffic.applied', { weights: desired.weights, liveSlot: desired.liveSlot });
    return observed;
  }

  /**
   * Change only what stands behind one slot (weights unchanged): its instances and, for a
   * platform whose slot is a group, its endpoint (absent: the slot has none). The routing it
   * starts from is read inside the mutex: a move that finished meanwhile is not undone.
   */
  setTargets(
    slot: Slot,
    targets: SlotTargets[Slot],
    release?: string,
    endpoint?: SlotEndpoint,
    context: MoveContext = {},
  ): Promise<RouterObservation> {
    return this.mutex.run(async () => {
      const now = await this.current();
      const releases = { ...now.releases };
      if (release === undefined) delete releases[slot];
      else releases[slot] = release;
      const endpoints: Partial<Record<Slot, SlotEndpoint>> = { ...now.endpoints };
      if (endpoint === undefined) delete endpoints[slot];
      else endpoints[slot] = endpoint;
      return this.applyHoldingMutex(
        {
          liveSlot: now.liveSlot,
          weights: now.weights,
          targets: { ...now.targets, [slot]: targets },
          releases,
          endpoints,
        },
        context,
      );
    });
  }

  /** Move only the weights; targets, releases and endpoints as they are when the mutex is taken. */
  moveWeights(
    weights: Weights,
    liveSlot: Slot | null,
    context: MoveContext = {},
  ): Promise<RouterObservation> {
    return this.mutex.run(async () => {
      const now = await this.current();
      return this.applyHoldingMutex(
        {
          liveSlot,
          weights,
          targets: now.targets,
          releases: now.releases,
          ...(now.endpoints ? { endpoints: now.endpoints } : {}),
        },
        context,
      );
    });
  }

  /**
   * verify(), asked again while the router answers `converging` (backoff from 100 ms to 5 s on
   * the engine's timers), until it answers anything else or the settle deadline passes. Each new
   * `seen` is recorded on the routing state and announced, so `status` and the deploy's
   * progress say what the router shows while cutover waits.
   */
  private async readBack(desired: DesiredRouting, context: MoveContext): Promise<RouterObservation> {
    const { settleTimeoutMs } = this.timing;
    const since = this.at();
    const deadline = this.timing.now().getTime() + settleTimeoutMs;
    let delay = SETTLE_POLL_FIRST_MS;
    let lastSeen: string | undefined;
    for (;;) {
      const observed = await this.router.verify();
      if (observed.kind !== 'converging') {
        if (lastSeen !== undefined) {
          this.logger.info('traffic.settled', { weights: desired.weights });
          this.announce(
            context,
            desired.weights,
            'settled',
            `router settled after ${elapsedSince(since, this.timing.now())}`,
          );
        }
        return observed;
      }
      if (observed.seen !== lastSeen) {
        lastSeen = observed.seen;
        await this.record(desired, { kind: 'converging', seen: observed.seen, since });
        this.logger.info('traffic.converging', { seen: observed.seen, weights: desired.weights });
        this.announce(
          context,
          desired.weights,
          'converging',
          `waiting for router to settle: ${observed.seen}`,
        );
      }
      const left = deadline - this.timing.now().getTime();
      if (left <= 0) {
        throw new CutoverError(
          'CUTOVER_E_VERIFY',
          `router did not settle within ${formatDuration(settleTimeoutMs)} after asking for blue ${desired.weights.blue}% / green ${desired.weights.green}%: ${observed.seen}`,
          { details: { asked: desired.weights, seen: observed.seen, settleTimeoutMs } },
        );
      }
      await sleep(Math.min(delay, left), context.signal ?? NEVER_ABORTED);
      delay = Math.min(delay * 2, SETTLE_POLL_MAX_MS);
    }
  }

  private async record(desired: DesiredRouting, readBack: RoutingReadBack): Promise<void> {
    await this.store.setRouting({ app: this.app, ...desired, readBack });
  }

  private announce(
    context: MoveContext,
    weights: Weights,
    state: 'converging' | 'settled' | 'unverifiable',
    detail: string,
  ): void {
    this.timing.events.emit({
      type: 'read-back',
      deploymentId: context.deploymentId ?? null,
      at: this.at(),
      state,
      weights,
      detail,
    });
  }

  private at(): string {
    return this.timing.now().toISOString();
  }
}

const NEVER_ABORTED = new AbortController().signal;

/**
 * Why the move was not checked against the data plane, or undefined when it was: the router
 * answered `unverifiable`, or its capabilities say `verifiable: false`, so what it answered is
 * its own configuration (nginx's reload mode reads its include file, not the live upstreams).
 */
function uncheckedReason(router: Router, observed: RouterObservation): string | undefined {
  if (observed.kind === 'unverifiable') return observed.reason;
  const { kind, mode, capabilities } = router.describe();
  if (capabilities.verifiable) return undefined;
  return `the ${kind} router${mode ? ` (${mode} mode)` : ''} cannot read back what its data plane does; it showed its own configuration with the asked weights`;
}

function elapsedSince(since: string, now: Date): string {
  return formatDuration(Math.max(0, now.getTime() - new Date(since).getTime()));
}

function endpointsOf(routing: DesiredRouting): SlotEndpoints {
  return routing.endpoints ?? NO_ENDPOINTS;
}

const NO_ENDPOINTS: SlotEndpoints = {};

/**
 * What to prepare before the weights move: the desired targets and endpoints, except that a
 * slot which may still carry traffic (weight in the previous routing) and is being emptied
 * keeps its instances, and its endpoint, until the weights have moved off it.
 */
function stagedRouting(
  previous: DesiredRouting,
  desired: DesiredRouting,
): { targets: SlotTargets; endpoints: SlotEndpoints } {
  let targets = desired.targets;
  let endpoints = endpointsOf(desired);
  for (const slot of SLOTS) {
    if (previous.weights[slot] === 0) continue;
    if (desired.targets[slot].length === 0 && previous.targets[slot].length > 0) {
      targets = { ...targets, [slot]: previous.targets[slot] };
    }
    const leaving = previous.endpoints?.[slot];
    if (leaving !== undefined && endpoints[slot] === undefined) endpoints = { ...endpoints, [slot]: leaving };
  }
  return { targets, endpoints };
}
