import { hostname } from 'node:os';
import type { LeaseResult, Store } from '../shared/store.js';
import { leaseOwner, parseLeaseOwner } from './engine-context.js';
import { asCutoverError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { processExists } from '../shared/process-exists.js';

export interface LeaseTiming {
  /** How long a taken or renewed lease lasts. */
  readonly ttlMs: number;
  /** How often every held lease is renewed (well inside ttlMs). */
  readonly renewEveryMs: number;
}

export interface LeaseKeeperOptions extends LeaseTiming {
  /**
   * An owner under which the embedding process already holds the app lease (a one-shot CLI's
   * session, taken before the engine reconciles anything): acquire() takes it over for the
   * deployment instead of refusing it, so the lease is never free in between.
   */
  readonly adopt?: string;
}

/**
 * The app's lease (invariant 3), held per deployment for as long as its work is: taken before
 * anything is touched, renewed on a timer until released. A renewal that finds the lease in
 * other hands calls the holder's `onLost`; a store error while renewing is logged and retried
 * on the next tick, never thrown (the lease is still ours until it expires or someone takes it).
 */
export class LeaseKeeper {
  private readonly held = new Map<string, () => void>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly app: string,
    private readonly store: Store,
    private readonly processId: string,
    private readonly logger: Logger,
    private readonly now: () => Date,
    private readonly timing: LeaseKeeperOptions,
  ) {
    this.timer = setInterval(() => this.renewAll(), timing.renewEveryMs);
    this.timer.unref();
  }

  /**
   * Takes the lease for `deploymentId` (or renews it if this process holds it already), first
   * releasing one left by a cutover process on this host that no longer exists.
   */
  acquire(deploymentId: string, onLost: () => void = () => undefined): LeaseResult {
    this.releaseIfHolderIsGone();
    this.releaseAdopted();
    const result = this.store.acquireLease(
      this.app,
      leaseOwner(this.processId, deploymentId),
      this.timing.ttlMs,
      this.now(),
    );
    if (result.acquired && !this.held.has(deploymentId)) this.held.set(deploymentId, onLost);
    return result;
  }

  /** Who is told when the lease of `deploymentId` turns out lost (the run, once it exists). */
  onLost(deploymentId: string, onLost: () => void): void {
    if (this.held.has(deploymentId)) this.held.set(deploymentId, onLost);
  }

  holds(deploymentId: string): boolean {
    return this.held.has(deploymentId);
  }

  release(deploymentId: string): void {
    this.held.delete(deploymentId);
    this.store.releaseLease(this.app, leaseOwner(this.processId, deploymentId));
  }

  /** Stops renewing. Leases stay in the store: a restart takes them over (the holder is gone). */
  close(): void {
    clearInterval(this.timer);
  }

  renewAll(): void {
    for (const [deploymentId, onLost] of [...this.held]) {
      let renewed: boolean;
      try {
        renewed = this.store.renewLease(
          this.app,
          leaseOwner(this.processId, deploymentId),
          this.timing.ttlMs,
          this.now(),
        );
      } catch (error) {
        this.logger.error('lease.renew-failed', {
          deployment: deploymentId,
          error: asCutoverError(error).message,
        });
        continue;
      }
      if (renewed) continue;
      this.held.delete(deploymentId);
      this.logger.error('lease.lost', { deployment: deploymentId });
      onLost();
    }
  }

  /**
   * The session lease of the embedding process gives way to the deployment's: released just
   * before the deployment's owner takes it (two statements in one synchronous turn; a
   * process that slips in between is a holder like any other and the acquire is refused).
   */
  private releaseAdopted(): void {
    const adopt = this.timing.adopt;
    if (adopt === undefined || this.store.getLease(this.app)?.owner !== adopt) return;
    this.logger.info('lease.adopt', { holder: adopt });
    this.store.releaseLease(this.app, adopt);
  }

  /** A lease held by a cutover process on this host that no longer exists is released at once. */
  releaseIfHolderIsGone(): void {
    const lease = this.store.getLease(this.app);
    if (!lease) return;
    const holder = parseLeaseOwner(lease.owner);
    if (!holder || holder.host !== hostname()) return;
    if (holder.pid === process.pid || processExists(holder.pid)) return;
    this.logger.warn('lease.take-over', { holder: lease.owner });
    this.store.releaseLease(this.app, lease.owner);
  }
}
