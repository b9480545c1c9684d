/**
 * Fault injection around a real router (test only): every call goes to the wrapped router,
 * except that setWeights can be made to fail (as an nginx `-t` or reload timeout, a HAProxy
 * socket that is down, a Caddy API error would) or to hang until released.
 */
import { CutoverError } from '../../src/shared/errors.js';
import type { Slot, SlotEndpoints, SlotTargets, Weights } from '../../src/shared/slot.js';
import type {
  DrainOptions,
  DrainStatus,
  PreviewRoute,
  Router,
  RouterDescription,
  RouterObservation,
} from '../../src/shared/router.js';

interface Hold {
  matches(weights: Weights): boolean;
  reached: () => void;
  release: Promise<void>;
}

export class FaultyRouter implements Router {
  /** setWeights calls refused so far (while failing). */
  refused = 0;
  private failing = false;
  private hold: Hold | undefined;

  constructor(readonly inner: Router) {}

  /** From now on every setWeights fails with CUTOVER_E_ROUTER, until heal(). */
  failMoves(): void {
    this.failing = true;
  }

  heal(): void {
    this.failing = false;
  }

  /**
   * The next setWeights whose weights match hangs (before reaching the router) until the
   * returned `release` is called; `reached` resolves when it starts hanging.
   */
  holdNextMove(matches: (weights: Weights) => boolean): { reached: Promise<void>; release: () => void } {
    let release!: () => void;
    let reached!: () => void;
    const reachedPromise = new Promise<void>((resolve) => (reached = resolve));
    const releasePromise = new Promise<void>((resolve) => (release = resolve));
    this.hold = { matches, reached, release: releasePromise };
    return { reached: reachedPromise, release };
  }

  describe(): RouterDescription {
    return this.inner.describe();
  }
  open(): Promise<void> {
    return this.inner.open();
  }
  prepare(targets: SlotTargets, endpoints?: SlotEndpoints): Promise<void> {
    return this.inner.prepare(targets, endpoints);
  }
  preview(slot: Slot): Promise<PreviewRoute> {
    return this.inner.preview(slot);
  }
  async setWeights(weights: Weights): Promise<void> {
    const hold = this.hold;
    if (hold?.matches(weights)) {
      this.hold = undefined;
      hold.reached();
      await hold.release;
    }
    if (this.failing) {
      this.refused += 1;
      throw new CutoverError('CUTOVER_E_ROUTER', 'injected fault: the router refused the move');
    }
    return this.inner.setWeights(weights);
  }
  verify(): Promise<RouterObservation> {
    return this.inner.verify();
  }
  drain(slot: Slot, options: DrainOptions): Promise<void> {
    return this.inner.drain(slot, options);
  }
  drainStatus(slot: Slot): Promise<DrainStatus> {
    return this.inner.drainStatus(slot);
  }
  cleanup(slot: Slot): Promise<void> {
    return this.inner.cleanup(slot);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
