import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { CutoverConfig } from '../config/schema.js';
import { DEFAULTS } from '../config/defaults.js';
import type { Instance, Platform } from '../shared/platform.js';
import { routesToEndpointKind, type Router } from '../shared/router.js';
import type { DeploymentRecord, Lease, RoutingState, Store } from '../shared/store.js';
import { parseLeaseOwner, type EngineContext } from './engine-context.js';
import { CutoverError, asCutoverError } from '../shared/errors.js';
import { DeploymentEvents } from '../shared/events.js';
import { assertAllHealthy } from './health-gate.js';
import { LeaseKeeper, type LeaseTiming } from './lease-keeper.js';
import { processExists } from '../shared/process-exists.js';
import type { Logger } from '../shared/logger.js';
import type { SlotTrafficSource } from '../shared/slot-traffic.js';
import type { ShadowReadings } from '../proxy/shadow/shadow-sample.js';
import { ABORTABLE_PHASES, LEASED_PHASES, ROLLBACKABLE_PHASES, isTerminal } from '../shared/phase.js';
import { DeploymentRun } from './deployment-run.js';
import { retireSlot } from './slot-retirement.js';
import { otherSlot, weightsAllOn, type Slot, type SlotEndpoint, type SlotEndpoints } from '../shared/slot.js';
import { moveVerification, type MoveVerification } from './move-verification.js';
import { parkedCapacity } from './cold-standby.js';
import { TrafficController } from './traffic.js';
import { transitionDeployment } from './transitions.js';
import { assertReleaseName } from './release-name.js';
import { probe } from '../checks/probe.js';

export interface EngineOptions {
  readonly config: CutoverConfig;
  readonly store: Store;
  readonly router: Router;
  readonly platform: Platform;
  readonly logger: Logger;
  readonly events?: DeploymentEvents;
  readonly now?: () => Date;
  /** The app lease's length and renewal period (defaults: DEFAULTS.lockLeaseMs / lockRenewEveryMs). */
  readonly lease?: Partial<LeaseTiming>;
  /**
   * The owner under which this process already holds the app lease (a one-shot CLI's session):
   * the engine takes it over for the deployment it drives, where it would refuse any other holder.
   */
  readonly heldLease?: string;
  /**
   * How long a converging router gets to show a move (default: the router config's
   * `settleTimeout`, for routers that settle eventually, else DEFAULTS.routerSettleTimeoutMs).
   */
  readonly settleTimeoutMs?: number;
  /** The builtin proxy's per-slot counters, for the builtin analysis provider. */
  readonly slotTraffic?: SlotTrafficSource;
  /** The builtin proxy's shadow comparisons, for the shadow stage before promotion. */
  readonly shadow?: ShadowReadings;
}

export interface EngineStatus {
  readonly app: string;
  readonly routing: RoutingState;
  /** Whether the last move was read back from the data plane, and why not when it was not. */
  readonly verification: MoveVerification;
  readonly lease: Lease | null;
  readonly active: DeploymentRecord[];
  readonly instances: Record<Slot, Instance[]>;
}

/**
 * The control loop for one app: starts deployments, and on start-up resumes or rolls back
 * whatever the journal says was under way (invariant 2). Used by `cutover server`, and
 * in-process by the CLI when the router needs no server.
 */
export class DeploymentEngine {
  readonly events: DeploymentEvents;
  readonly traffic: TrafficController;
  private readonly ctx: EngineContext;
  private readonly runs = new Map<string, DeploymentRun>();
  private readonly lease: LeaseKeeper;
  /** Work outside any run: retiring a slot a crash left running after an abort or rollback. */
  private readonly background = new Set<Promise<void>>();
  private readonly shutdown = new AbortController();
  private closed = false;

  constructor(options: EngineOptions) {
    refuseEndpointTheRouterCannotTake(options.platform, options.router);
    this.events = options.events ?? new DeploymentEvents();
    const processId = `cutover@${hostname()}:${process.pid}`;
    const now = options.now ?? (() => new Date());
    this.traffic = new TrafficController(options.config.app, options.store, options.router, options.logger, {
      events: this.events,
      now,
      settleTimeoutMs: options.settleTimeoutMs ?? settleTimeoutOf(options.config.router),
    });
    this.lease = new LeaseKeeper(options.config.app, options.store, processId, options.logger, now, {
      ttlMs: options.lease?.ttlMs ?? DEFAULTS.lockLeaseMs,
      renewEveryMs: options.lease?.renewEveryMs ?? DEFAULTS.lockRenewEveryMs,
      ...(options.heldLease !== undefined ? { adopt: options.heldLease } : {}),
    });
    this.ctx = {
      config: options.config,
      store: options.store,
      router: options.router,
      platform: options.platform,
      traffic: this.traffic,
      events: this.events,
      logger: options.logger,
      lease: this.lease,
      processId,
      now,
      ...(options.slotTraffic === undefined ? {} : { slotTraffic: options.slotTraffic }),
      ...(options.shadow === undefined ? {} : { shadow: options.shadow }),
    };
  }

  private get app(): string {
    return this.ctx.config.app;
  }

  /**
   * After a (re)start: put traffic where the store says, but only onto slots whose instances
   * are running and healthy, then resume every unfinished deployment from its journal (an
   * abort or rollback too), and retire a slot an abort or rollback left running.
   */
  async recover(): Promise<void> {
    await this.restoreRouting();
    await this.resumeDeployments();
  }

  /**
   * The first half of recover(): reconcile the platform and put the routing the store holds
   * back into the router, onto healthy slots only. The control server opens the public
   * listener between the halves, so no client is answered from an empty routing table.
   */
  async restoreRouting(): Promise<void> {
    await this.refuseWhileAnotherProcessDrives();
    const { store, platform } = this.ctx;
    const unfinished = await store.unfinishedDeployments(this.app);
    const routing = await this.traffic.current();
    const keep = new Set<Slot>();
    for (const slot of ['blue', 'green'] as const) {
      if (routing.targets[slot].length > 0) keep.add(slot);
    }
    for (const deployment of unfinished) {
      keep.add(deployment.toSlot);
      if (deployment.fromSlot) keep.add(deployment.fromSlot);
    }
    const running = await platform.reconcile(keep);
    await this.restoreSafeRouting(routing, running);
  }

  /**
   * The second half of recover(): every unfinished deployment goes on from its journal, holding
   * the lease again if its phase needs it (a dead holder's lease is taken over); then a slot
   * that the last abort or rollback did not get to stop is retired.
   */
  async resumeDeployments(): Promise<void> {
    const { store, logger } = this.ctx;
    const unfinished = await store.unfinishedDeployments(this.app);
    // A lease the dead process held goes, also one a finished deployment had not released yet.
    await this.lease.releaseIfHolderIsGone();
    for (const deployment of unfinished) {
      // Closed meanwhile (a SIGTERM during start-up): the rest resume at the next start.
      if (this.closed) return;
      if (LEASED_PHASES.has(deployment.phase)) {
        const lease = await this.lease.acquire(deployment.id);
        if (!lease.acquired) {
          logger.error('deployment.resume-refused', {
            deployment: deployment.id,
            phase: deployment.phase,
            holder: lease.holder.owner,
          });
          continue;
        }
      }
      if (deployment.reason?.code === 'CUTOVER_E_LEASE_LOST')
        await store.update(deployment.id, { reason: null });
      logger.info('deployment.resume', { deployment: deployment.id, phase: deployment.phase });
      this.startRun(deployment.id);
    }
    if (unfinished.length === 0) await this.retireLeftoverSlot();
  }

  /**
   * Converges a finished record too: after an abort or rollback the new slot carries no traffic
   * and is stopped. A crash after the final phase and before the stop left it running.
   */
  private async retireLeftoverSlot(): Promise<void> {
    const { store, platform, logger } = this.ctx;
    const [last] = await store.listDeployments(this.app, 1);
    if (!last || (last.phase !== 'aborted' && last.phase !== 'rolled-back')) return;
    const slot = last.toSlot;
    const routing = await this.traffic.current();
    if (routing.liveSlot === slot) return;
    const work = (async () => {
      if (routing.targets[slot].length === 0 && (await platform.running(slot)).length === 0) return;
      logger.warn('recover.retire-leftover', { deployment: last.id, slot });
      await retireSlot(this.ctx, slot, this.shutdown.signal);
    })();
    this.track(work, 'recover.retire-failed');
  }

  private async restoreSafeRouting(routing: RoutingState, running: Record<Slot, Instance[]>): Promise<void> {
    const { platform, config, logger } = this.ctx;
    if (routing.liveSlot === null && routing.targets.blue.length === 0 && routing.targets.green.length === 0)
      return;
    const targets = {
      blue: platform.healthTargets(running.blue),
      green: platform.healthTargets(running.green),
    };
    const endpoints = slotEndpoints(platform, running);
    let weights = routing.weights;
    let liveSlot = routing.liveSlot;
    for (const slot of ['blue', 'green'] as const) {
      if (weights[slot] === 0) continue;
      const healthy = await this.isHealthy(targets[slot]);
      if (healthy) continue;
      const other = otherSlot(slot);
      if (await this.isHealthy(targets[other])) {
        logger.warn('recover.move-off-unhealthy', { slot, to: other });
        weights = weightsAllOn(other);
        liveSlot = other;
      } else if (targets[slot].length === 0 && targets[other].length > 0) {
        // Nothing runs behind the weighted slot any more (its instances are gone) and the other
        // slot fails its check: its instances are all that can still answer, and a router
        // refuses weight on a slot with none (CUTOVER_E_EMPTY_SLOT), which would stop the start.
        logger.error('recover.weight-off-empty-slot', {
          slot,
          to: other,
          detail: `${slot} has no running instance and ${other} fails its health check: traffic goes to ${other}, the only slot that can answer`,
        });
        weights = weightsAllOn(other);
        liveSlot = other;
      } else {
        logger.error('recover.no-healthy-slot', { slot });
      }
    }
    await this.traffic.apply(
      { liveSlot, weights, targets, releases: routing.releases, endpoints },
      { signal: this.shutdown.signal },
    );
    void config;
  }

  private async isHealthy(targets: readonly { id: string; host: string; port: number }[]): Promise<boolean> {
    if (targets.length === 0) return false;
    const results = await Promise.all(targets.map((target) => probe(target, this.ctx.config.health)));
    return results.every((result) => result.healthy);
  }

  /** Starts a deployment; resolves once it is journaled (the run goes on in the background). */
  async deploy(
    release: string,
    requestedBy: string,
  ): Promise<{ deployment: DeploymentRecord; finished: Promise<DeploymentRecord> }> {
    const { store, platform } = this.ctx;
    assertReleaseName(release);
    await platform.checkRelease?.(release);
    if (this.closed) throw shuttingDown();
    const id = newDeploymentId(this.ctx.now());
    // Taken before anything is touched, and renewed from here on: also while a standby retires.
    const lease = await this.lease.acquire(id);
    if (!lease.acquired) {
      await store.audit({
        app: this.app,
        actor: requestedBy,
        action: 'deploy',
        target: release,
        outcome: 'refused',
        details: { holder: lease.holder.owner },
      });
      throw new CutoverError(
        'CUTOVER_E_LOCKED',
        `another deployment of ${this.app} is in progress: the lock is held by ${lease.holder.owner} until ${lease.holder.expiresAt}`,
        { details: { holder: lease.holder } },
      );
    }
    try {
      // A slot aborted or rolled back a moment ago may still be draining before it stops.
      await this.settleRetiringSlots();
      await this.retireStandbys();
      if (!this.lease.holds(id)) {
        throw new CutoverError('CUTOVER_E_LEASE_LOST', `deploy of ${release} lost the lock of ${this.app}`);
      }
      const routing = await this.traffic.current();
      const fromSlot = routing.liveSlot;
      const toSlot: Slot = fromSlot ? otherSlot(fromSlot) : 'blue';
      const deployment = await store.createDeployment({
        id,
        app: this.app,
        release,
        fromSlot,
        toSlot,
        fromRelease: fromSlot ? (routing.releases[fromSlot] ?? null) : null,
        requestedBy,
      });
      await store.audit({
        app: this.app,
        actor: requestedBy,
        action: 'deploy',
        target: release,
        outcome: 'ok',
        details: { deployment: id, slot: toSlot },
      });
      // Closed while the store was written: the deployment stays journaled and the next start
      // resumes it; a run started now would outlive the engine's close().
      if (this.closed) throw shuttingDown();
      const run = this.startRun(id);
      return { deployment, finished: run.finished };
    } catch (error) {
      await this.lease.release(id).catch((releaseError: unknown) =>
        this.ctx.logger.error('lease.release-failed', {
          deployment: id,
          error: asCutoverError(releaseError).message,
        }),
      );
      throw asCutoverError(error);
    }
  }

  /** Opens the manual gate of the active deployment. */
  async promote(requestedBy: string, id?: string): Promise<DeploymentRecord> {
    const deployment = await this.findActive(id, (record) => !isTerminal(record.phase), 'promote');
    const run = this.runs.get(deployment.id);
    if (!run?.waitingForPromotion) {
      throw new CutoverError(
        'CUTOVER_E_INVALID_STATE',
        `deployment ${deployment.id} is ${deployment.phase}, not waiting for promotion`,
      );
    }
    run.promote();
    await this.ctx.store.audit({
      app: this.app,
      actor: requestedBy,
      action: 'promote',
      target: deployment.release,
      outcome: 'ok',
      details: { deployment: deployment.id },
    });
    return deployment;
  }

  /**
   * Aborts an unpromoted deployment: journals the intent (`aborting`) at once, so a run that is
   * about to promote cannot; resolves when traffic is verified back on the old slot, rejects
   * with the router's error if that move fails (the run keeps retrying it).
   */
  async abort(requestedBy: string, id?: string): Promise<DeploymentRecord> {
    const deployment = await this.findActive(
      id,
      (record) => ABORTABLE_PHASES.has(record.phase) || record.phase === 'aborting',
      'abort',
    );
    const reason = { code: 'CUTOVER_E_ABORTED', message: `aborted by ${requestedBy}` };
    return this.unwind(deployment, 'aborting', reason, requestedBy, 'abort', { deployment: deployment.id });
  }

  /**
   * Moves traffic back to the previous slot, which is still warm (invariant 4): a traffic
   * move, not a redeploy. Journals the intent (`rolling-back`), then the run moves traffic and
   * writes `rolled-back` once the router has verified it. Resolves then; rejects with the
   * router's error if the move fails (the run keeps retrying; `cutover rollback` again waits
   * for its next attempt).
   */
  async rollback(requestedBy: string, id?: string): Promise<DeploymentRecord> {
    const { platform, config } = this.ctx;
    const deployment = await this.findActive(
      id,
      (record) => ROLLBACKABLE_PHASES.has(record.phase) || record.phase === 'rolling-back',
      'rollback',
    );
    const fromSlot = deployment.fromSlot;
    if (fromSlot === null) {
      throw new CutoverError(
        'CUTOVER_E_INVALID_STATE',
        `deployment ${deployment.id} was the first deploy: there is no previous release to roll back to`,
      );
    }
    // A parked old slot has nothing to probe yet: the run restores it, then probes it.
    const parked = (await parkedCapacity(this.ctx.store, deployment.id, fromSlot)) !== undefined;
    if (!parked) {
      const warm = platform.healthTargets(await platform.running(fromSlot));
      await assertAllHealthy(
        warm,
        config.health,
        `previous slot ${fromSlot} (${deployment.fromRelease ?? 'previous release'})`,
      );
    }
    const reason = { code: 'CUTOVER_E_ABORTED', message: `rolled back by ${requestedBy}` };
    return this.unwind(deployment, 'rolling-back', reason, requestedBy, 'rollback', {
      deployment: deployment.id,
      to: fromSlot,
    });
  }

  /** Lease, journaled intent, the run woken (or started) to act on it, audited by its outcome. */
  private async unwind(
    deployment: DeploymentRecord,
    intent: 'aborting' | 'rolling-back',
    reason: { code: string; message: string },
    requestedBy: string,
    action: string,
    details: Record<string, unknown>,
  ): Promise<DeploymentRecord> {
    const { store } = this.ctx;
    if (this.closed) throw shuttingDown();
    const audit = (
      outcome: 'ok' | 'refused' | 'failed',
      extra: Record<string, unknown> = {},
    ): Promise<void> =>
      store.audit({
        app: this.app,
        actor: requestedBy,
        action,
        target: deployment.release,
        outcome,
        details: { ...details, ...extra },
      });
    const heldAlready = this.lease.holds(deployment.id);
    const lease = await this.lease.acquire(deployment.id);
    if (!lease.acquired) {
      await audit('refused', { holder: lease.holder.owner });
      throw new CutoverError(
        'CUTOVER_E_LOCKED',
        `cannot ${action} deployment ${deployment.id}: the lock of ${this.app} is held by ${lease.holder.owner} until ${lease.holder.expiresAt}`,
        { details: { holder: lease.holder } },
      );
    }
    let record: DeploymentRecord;
    try {
      // The phase is read again and the rules checked on it: the record may have moved since
      // findActive (a rollback probes the old slot first).
      record =
        deployment.phase === intent
          ? deployment
          : await transitionDeployment(store, deployment.id, intent, { patch: { reason } });
    } catch (error) {
      // Promoted (or finished) a moment ago: nothing to abort any more. Said at once, not hung.
      if (!heldAlready) await this.lease.release(deployment.id);
      const failure = asCutoverError(error);
      await audit('refused', { code: failure.code, message: failure.message });
      throw failure;
    }
    this.events.emit({
      type: 'phase',
      deploymentId: record.id,
      phase: record.phase,
      release: record.release,
      at: this.ctx.now().toISOString(),
      ...(record.reason ? { reason: record.reason } : {}),
    });
    const existing = this.runs.get(record.id);
    // The intent is journaled: after a close() meanwhile, the next start acts on it.
    if (this.closed && !(existing && !existing.ended)) throw shuttingDown();
    const run = existing && !existing.ended ? existing : this.startRun(record.id);
    if (intent === 'rolling-back') run.oldSlotJustProbed();
    const outcome = run.outcome();
    if (run === existing) run.wake();
    try {
      const done = await outcome;
      await audit('ok');
      return done;
    } catch (error) {
      const failure = asCutoverError(error);
      await audit('failed', { code: failure.code, message: failure.message });
      throw failure;
    }
  }

  /** Runs whose deployment is finished but whose new slot is still draining or stopping. */
  private async settleRetiringSlots(): Promise<void> {
    const runs = [...this.runs.values()];
    const records = await Promise.all(runs.map((run) => this.ctx.store.getDeployment(run.id)));
    const retiring = runs.filter((_, index) => {
      const record = records[index];
      return record !== undefined && isTerminal(record.phase);
    });
    await Promise.allSettled([...retiring.map((run) => run.finished), ...this.background]);
  }

  /**
   * What the engine knows now: routing, lease and deployments from the store, instances as the
   * platform sees them. Never waits behind a provision or stop in progress (Platform.running()
   * does not queue), so the admin API and a scrape answer during a deploy.
   */
  async status(): Promise<EngineStatus> {
    const { store, platform } = this.ctx;
    const [blue, green, routing, lease, active] = await Promise.all([
      platform.running('blue'),
      platform.running('green'),
      this.traffic.current(),
      store.getLease(this.app),
      store.unfinishedDeployments(this.app),
    ]);
    return {
      app: this.app,
      routing,
      verification: moveVerification(routing.readBack),
      lease: lease ?? null,
      active,
      instances: { blue, green },
    };
  }

  /** Unfinished deployments, oldest first, from the store alone (for /metrics). */
  activeDeployments(): Promise<DeploymentRecord[]> {
    return this.ctx.store.unfinishedDeployments(this.app);
  }

  /** Waits for a deployment's run (tests and the in-process CLI use it). */
  finished(id: string): Promise<DeploymentRecord> | undefined {
    return this.runs.get(id)?.finished;
  }

  /**
   * For a deployment this engine is moving back (aborting, rolling-back): resolves at its final
   * phase, rejects with the error of the next failed attempt to move traffic back while the run
   * keeps retrying — what `abort` and `rollback` answer with. Undefined when no run drives it.
   */
  unwinding(id: string): Promise<DeploymentRecord> | undefined {
    const run = this.runs.get(id);
    return run === undefined || run.ended ? undefined : run.outcome();
  }

  /**
   * Graceful shutdown: every run stops at its next safe point (a wait is cut short, a traffic
   * move in progress finishes) and stays journaled, unfinished and unfailed; the lease is
   * renewed until they have, then no more. The next start resumes them. The caller closes the
   * router only after this resolves.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.shutdown.abort();
    for (const run of this.runs.values()) run.stop('shutdown');
    await Promise.allSettled([...[...this.runs.values()].map((run) => run.finished), ...this.background]);
    // After the runs: their last writes (a lease released, a phase) land before the store closes.
    await this.lease.close();
  }

  private startRun(id: string): DeploymentRun {
    const existing = this.runs.get(id);
    if (existing && !existing.ended) return existing;
    const run = new DeploymentRun(this.ctx, id);
    this.runs.set(id, run);
    // A lost lease stops the run where it is: someone else may be moving traffic now.
    this.lease.onLost(id, () => run.stop('lease-lost'));
    run.finished
      .catch((error: unknown) =>
        this.ctx.logger.error('deployment.run-failed', {
          deployment: id,
          error: asCutoverError(error).message,
        }),
      )
      .finally(() => {
        if (this.runs.get(id) === run) this.runs.delete(id);
      })
      .catch(() => undefined);
    return run;
  }

  /** A new deploy needs the idle slot: a previous deployment still in standby retires now. */
  private async retireStandbys(): Promise<void> {
    for (const deployment of await this.ctx.store.unfinishedDeployments(this.app)) {
      if (deployment.phase !== 'standby') {
        throw new CutoverError(
          'CUTOVER_E_LOCKED',
          `deployment ${deployment.id} of ${this.app} is still ${deployment.phase}`,
          {
            details: { deployment: deployment.id },
          },
        );
      }
      const run = this.startRun(deployment.id);
      run.retireNow();
      await run.finished;
    }
  }

  private async findActive(
    id: string | undefined,
    accepts: (record: DeploymentRecord) => boolean,
    action: string,
  ): Promise<DeploymentRecord> {
    const { store } = this.ctx;
    if (id) {
      const record = await store.getDeployment(id);
      if (!record || record.app !== this.app)
        throw new CutoverError('CUTOVER_E_NOT_FOUND', `deployment ${id} not found`);
      if (!accepts(record)) throw invalidState(record, action);
      return record;
    }
    const candidates = (await store.unfinishedDeployments(this.app)).filter(accepts);
    const latest = candidates[candidates.length - 1];
    if (!latest) {
      const [last] = await store.listDeployments(this.app, 1);
      if (last) throw invalidState(last, action);
      throw new CutoverError('CUTOVER_E_NOT_FOUND', `${this.app} has no deployment to ${action}`);
    }
    return latest;
  }

  /**
   * A live cutover process on this host holds the app's lease (a one-shot CLI running a deploy):
   * reconciling now would stop the instances it is starting, and resuming would drive its
   * deployment twice. Start once it has finished.
   */
  private async refuseWhileAnotherProcessDrives(): Promise<void> {
    const lease = await this.ctx.store.getLease(this.app);
    if (!lease || new Date(lease.expiresAt).getTime() <= this.ctx.now().getTime()) return;
    const holder = parseLeaseOwner(lease.owner);
    if (!holder || holder.host !== hostname() || holder.pid === process.pid || !processExists(holder.pid))
      return;
    throw new CutoverError(
      'CUTOVER_E_LOCKED',
      `${lease.owner} is driving ${this.app} now (its lock runs until ${lease.expiresAt}): start again once it has finished`,
      { details: { holder: lease } },
    );
  }

  private track(work: Promise<void>, failure: string): void {
    this.background.add(work);
    work
      .catch((error: unknown) => this.ctx.logger.error(failure, { error: asCutoverError(error).message }))
      .finally(() => this.background.delete(work))
      .catch(() => undefined);
  }
}

/**
 * Open-time twin of the config check (config/cross-checks.ts), from what the platform and the
 * router say of themselves: a platform whose slot is a group needs a router that routes to it.
 */
function refuseEndpointTheRouterCannotTake(platform: Platform, router: Router): void {
  const { kind: platformKind, endpointKind } = platform.describe();
  const { kind: routerKind, capabilities } = router.describe();
  if (endpointKind === undefined || routesToEndpointKind(capabilities, endpointKind)) return;
  throw new CutoverError(
    'CUTOVER_E_CONFIG',
    `each slot of platform.kind "${platformKind}" is an endpoint of kind ${endpointKind}, which router.kind "${routerKind}" cannot route to (it takes ${capabilities.endpointKinds?.join(', ') || 'host:port instances only'})`,
    { details: { platform: platformKind, endpointKind, router: routerKind } },
  );
}

/**
 * The router's own `settleTimeout`, for routers whose data plane settles eventually (their
 * config schema has the key, see config/fields.ts); the default for the rest, which never
 * answer `converging` anyway.
 */
function settleTimeoutOf(router: object): number {
  const value = (router as { settleTimeout?: unknown }).settleTimeout;
  return typeof value === 'number' ? value : DEFAULTS.routerSettleTimeoutMs;
}

/** The endpoint of each slot with running instances, for a platform whose slot is a group. */
export function slotEndpoints(platform: Platform, running: Record<Slot, Instance[]>): SlotEndpoints {
  const endpoints: Partial<Record<Slot, SlotEndpoint>> = {};
  for (const slot of ['blue', 'green'] as const) {
    if (running[slot].length === 0) continue;
    const endpoint = platform.endpoint?.(slot, running[slot]);
    if (endpoint !== undefined) endpoints[slot] = endpoint;
  }
  return endpoints;
}

function shuttingDown(): CutoverError {
  return new CutoverError('CUTOVER_E_SHUTTING_DOWN', 'the cutover server is shutting down');
}

function invalidState(record: DeploymentRecord, action: string): CutoverError {
  const hint =
    action === 'rollback' && record.phase === 'retired'
      ? ': its rollback window has ended and the previous slot was stopped; deploy the previous release again'
      : '';
  return new CutoverError(
    'CUTOVER_E_INVALID_STATE',
    `cannot ${action} deployment ${record.id}: it is ${record.phase}${hint}`,
    {
      details: { deployment: record.id, phase: record.phase },
    },
  );
}

function newDeploymentId(now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `d-${stamp}-${randomBytes(3).toString('hex')}`;
}
