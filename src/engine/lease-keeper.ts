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
  /** The renewal round in progress: rounds never overlap, and close() waits for the last one. */
  private renewing: Promise<void> | undefined;

  constructor(
    private readonly app: string,
    private readonly store: Store,
    private readonly processId: string,
    private readonly logger: Logger,
    private readonly now: () => Date,
    private readonly timing: LeaseKeeperOptions,
  ) {
    this.timer = setInterval(() => void this.renewRound(), timing.renewEveryMs);
    this.timer.unref();
  }

  /**
   * Takes the lease for `deploymentId` (or renews it if this process holds it already), first
   * releasing one left by a cutover process on this host that no longer exists.
   */
  async acquire(deploymentId: string, onLost: () => void = () => undefined): Promise<LeaseResult> {
    await this.releaseIfHolderIsGone();
    await this.releaseAdopted();
    const result = await this.store.acquireLease(
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

  async release(deploymentId: string): Promise<void> {
    this.held.delete(deploymentId);
    await this.store.releaseLease(this.app, leaseOwner(this.processId, deploymentId));
  }

  /**
   * Stops renewing, once a renewal in flight has landed (the store closes after this).
   * Leases stay in the store: a restart takes them over (the holder is gone).
   */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.renewing;
  }

  /** One renewal round, unless the last one is still waiting on the store. Never rejects. */
  private renewRound(): Promise<void> {
    if (this.renewing !== undefined) return this.renewing;
    const round = this.renewAll()
      .catch((error: unknown) =>
        this.logger.error('lease.renew-failed', { error: asCutoverError(error).message }),
      )
      .finally(() => {
        this.renewing = undefined;
      });
    this.renewing = round;
    return round;
  }

  private async renewAll(): Promise<void> {
    for (const [deploymentId, onLost] of [...this.held]) {
      let renewed: boolean;
      try {
        renewed = await this.store.renewLease(
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
      // Released while the renewal was on its way: not lost, given back.
      if (renewed || !this.held.has(deploymentId)) continue;
      this.held.delete(deploymentId);
      this.logger.error('lease.lost', { deployment: deploymentId });
      onLost();
    }
  }

  /**
   * The session lease of the embedding process gives way to the deployment's: released just
   * before the deployment's owner takes it (a process that slips in between is a holder like
   * any other and the acquire is refused).
   */
  private async releaseAdopted(): Promise<void> {
    const adopt = this.timing.adopt;
    if (adopt === undefined || (await this.store.getLease(this.app))?.owner !== adopt) return;
    this.logger.info('lease.adopt', { holder: adopt });
    await this.store.releaseLease(this.app, adopt);
  }

  /** A lease held by a cutover process on this host that no longer exists is released at once. */
  async releaseIfHolderIsGone(): Promise<void> {
    const lease = await this.store.getLease(this.app);
    if (!lease) return;
    const holder = parseLeaseOwner(lease.owner);
    if (!holder || holder.host !== hostname()) return;
    if (holder.pid === process.pid || processExists(holder.pid)) return;
    this.logger.warn('lease.take-over', { holder: lease.owner });
    await this.store.releaseLease(this.app, lease.owner);
  }
}
