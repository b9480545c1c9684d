import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { CutoverConfig } from '../config/schema.js';
import { DEFAULTS } from '../config/defaults.js';
import type { Instance, Platform } from '../platforms/platform.js';
import type { Router } from '../routers/router.js';
import type { DeploymentRecord, Lease, RoutingState, Store } from '../store/store.js';
import { leaseOwner, parseLeaseOwner, type EngineContext } from './engine-context.js';
import { CutoverError, asCutoverError } from './errors.js';
import { DeploymentEvents } from './events.js';
import { assertAllHealthy } from './health-gate.js';
import type { Logger } from './logger.js';
import { ABORTABLE_PHASES, ROLLBACKABLE_PHASES, isTerminal } from './phase.js';
import { DeploymentRun, hookEnvOf } from './deployment-run.js';
import { runHook } from './hook-runner.js';
import { otherSlot, weightsAllOn, type Slot } from './slot.js';
import { TrafficController } from './traffic.js';
import { probe } from '../checks/probe.js';

export interface EngineOptions {
  readonly config: CutoverConfig;
  readonly store: Store;
  readonly router: Router;
  readonly platform: Platform;
  readonly logger: Logger;
  readonly events?: DeploymentEvents;
  readonly now?: () => Date;
}

export interface EngineStatus {
  readonly app: string;
  readonly routing: RoutingState;
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
  private readonly renewTimer: NodeJS.Timeout;
  private closed = false;

  constructor(options: EngineOptions) {
    this.events = options.events ?? new DeploymentEvents();
    this.traffic = new TrafficController(options.config.app, options.store, options.router, options.logger);
    this.ctx = {
      config: options.config,
      store: options.store,
      router: options.router,
      platform: options.platform,
      traffic: this.traffic,
      events: this.events,
      logger: options.logger,
      processId: `cutover@${hostname()}:${process.pid}`,
      now: options.now ?? (() => new Date()),
    };
    this.renewTimer = setInterval(() => this.renewLeases(), DEFAULTS.lockRenewEveryMs);
    this.renewTimer.unref();
  }

  private get app(): string {
    return this.ctx.config.app;
  }

  /**
   * After a (re)start: put traffic where the store says, but only onto slots whose instances
   * are running and healthy, then resume every unfinished deployment from its journal.
   */
  async recover(): Promise<void> {
    await this.restoreRouting();
    this.resumeDeployments();
  }

  /**
   * The first half of recover(): reconcile the platform and put the routing the store holds
   * back into the router, onto healthy slots only. The control server opens the public
   * listener between the halves, so no client is answered from an empty routing table.
   */
  async restoreRouting(): Promise<void> {
    this.refuseWhileAnotherProcessDrives();
    const { store, platform } = this.ctx;
    const unfinished = store.unfinishedDeployments(this.app);
    const routing = this.traffic.current();
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

  /** The second half of recover(): every unfinished deployment goes on from its journal. */
  resumeDeployments(): void {
    const { store, logger } = this.ctx;
    for (const deployment of store.unfinishedDeployments(this.app)) {
      this.takeOverLeaseOfDeadHolder();
      logger.info('deployment.resume', { deployment: deployment.id, phase: deployment.phase });
      this.startRun(deployment.id);
    }
  }

  private async restoreSafeRouting(routing: RoutingState, running: Record<Slot, Instance[]>): Promise<void> {
    const { platform, config, logger } = this.ctx;
    if (routing.liveSlot === null && routing.targets.blue.length === 0 && routing.targets.green.length === 0)
      return;
    const targets = {
      blue: platform.healthTargets(running.blue),
      green: platform.healthTargets(running.green),
    };
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
      } else {
        logger.error('recover.no-healthy-slot', { slot });
      }
    }
    await this.traffic.apply({ liveSlot, weights, targets, releases: routing.releases });
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
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(release)) {
      throw new CutoverError(
        'CUTOVER_E_USAGE',
        `"${release}" is not a valid release name (letters, digits, ".", "_", "-")`,
      );
    }
    await platform.checkRelease?.(release);
    this.takeOverLeaseOfDeadHolder();
    const id = newDeploymentId(this.ctx.now());
    const lease = store.acquireLease(
      this.app,
      leaseOwner(this.ctx.processId, id),
      DEFAULTS.lockLeaseMs,
      this.ctx.now(),
    );
    if (!lease.acquired) {
      store.audit({
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
      // A slot rolled back a moment ago may still be draining before it stops: let it finish.
      await Promise.allSettled([...this.background]);
      await this.retireStandbys();
      const routing = this.traffic.current();
      const fromSlot = routing.liveSlot;
      const toSlot: Slot = fromSlot ? otherSlot(fromSlot) : 'blue';
      const deployment = store.createDeployment({
        id,
        app: this.app,
        release,
        fromSlot,
        toSlot,
        fromRelease: fromSlot ? (routing.releases[fromSlot] ?? null) : null,
        requestedBy,
      });
      store.audit({
        app: this.app,
        actor: requestedBy,
        action: 'deploy',
        target: release,
        outcome: 'ok',
        details: { deployment: id, slot: toSlot },
      });
      const run = this.startRun(id);
      return { deployment, finished: run.finished };
    } catch (error) {
      store.releaseLease(this.app, leaseOwner(this.ctx.processId, id));
      throw asCutoverError(error);
    }
  }

  /** Opens the manual gate of the active deployment. */
  promote(requestedBy: string, id?: string): DeploymentRecord {
    const deployment = this.findActive(id, (record) => !isTerminal(record.phase), 'promote');
    const run = this.runs.get(deployment.id);
    if (!run?.waitingForPromotion) {
      throw new CutoverError(
        'CUTOVER_E_INVALID_STATE',
        `deployment ${deployment.id} is ${deployment.phase}, not waiting for promotion`,
      );
    }
    run.promote();
    this.ctx.store.audit({
      app: this.app,
      actor: requestedBy,
      action: 'promote',
      target: deployment.release,
      outcome: 'ok',
      details: { deployment: deployment.id },
    });
    return deployment;
  }

  /** Aborts an unpromoted deployment; resolves when traffic is back on the old slot. */
  async abort(requestedBy: string, id?: string): Promise<DeploymentRecord> {
    const deployment = this.findActive(id, (record) => ABORTABLE_PHASES.has(record.phase), 'abort');
    const reason = { code: 'CUTOVER_E_ABORTED', message: `aborted by ${requestedBy}` };
    const run = this.runs.get(deployment.id) ?? this.startRun(deployment.id);
    run.abort(reason);
    this.ctx.store.audit({
      app: this.app,
      actor: requestedBy,
      action: 'abort',
      target: deployment.release,
      outcome: 'ok',
      details: { deployment: deployment.id },
    });
    return run.finished;
  }

  /**
   * Moves traffic back to the previous slot, which is still warm (invariant 4): a traffic
   * move, not a redeploy. Resolves once the router has verified the move.
   */
  async rollback(requestedBy: string, id?: string): Promise<DeploymentRecord> {
    const { store, platform, config } = this.ctx;
    const deployment = this.findActive(id, (record) => ROLLBACKABLE_PHASES.has(record.phase), 'rollback');
    const fromSlot = deployment.fromSlot;
    if (fromSlot === null) {
      throw new CutoverError(
        'CUTOVER_E_INVALID_STATE',
        `deployment ${deployment.id} was the first deploy: there is no previous release to roll back to`,
      );
    }
    const warm = platform.healthTargets(await platform.running(fromSlot));
    await assertAllHealthy(
      warm,
      config.health,
      `previous slot ${fromSlot} (${deployment.fromRelease ?? 'previous release'})`,
    );
    const reason = { code: 'CUTOVER_E_ABORTED', message: `rolled back by ${requestedBy}` };
    const record = store.transition(deployment.id, 'rolled-back', { reason });
    const current = this.traffic.current();
    await this.traffic.apply({
      liveSlot: fromSlot,
      weights: weightsAllOn(fromSlot),
      targets: { ...current.targets, [fromSlot]: warm },
      releases: current.releases,
    });
    this.runs.get(deployment.id)?.wake();
    this.events.emit({
      type: 'phase',
      deploymentId: deployment.id,
      phase: 'rolled-back',
      release: deployment.release,
      at: this.ctx.now().toISOString(),
      reason,
    });
    store.audit({
      app: this.app,
      actor: requestedBy,
      action: 'rollback',
      target: deployment.release,
      outcome: 'ok',
      details: { deployment: deployment.id, to: fromSlot },
    });
    store.releaseLease(this.app, leaseOwner(this.ctx.processId, deployment.id));
    this.retireRolledBackSlot(deployment);
    await this.runAfterRollbackHook(record, requestedBy);
    return record;
  }

  /**
   * hooks.afterRollback, with the environment of the deployment's other hooks. The rollback is
   * done (journaled, traffic moved and verified) before it runs: a failure is logged, shown on
   * the event stream and audited, and undoes nothing.
   */
  private async runAfterRollbackHook(record: DeploymentRecord, requestedBy: string): Promise<void> {
    const { config, store, logger } = this.ctx;
    const command = config.hooks.afterRollback;
    if (command === undefined) return;
    try {
      await runHook({
        name: 'afterRollback',
        command,
        cwd: config.baseDir,
        env: hookEnvOf(record),
        timeoutMs: config.hooks.timeout,
      });
      logger.info('hook.ok', { hook: 'afterRollback', deployment: record.id });
    } catch (error) {
      const failure = asCutoverError(error);
      logger.error('hook.failed', { hook: 'afterRollback', deployment: record.id, error: failure.message });
      this.events.emit({
        type: 'message',
        deploymentId: record.id,
        at: this.ctx.now().toISOString(),
        level: 'warn',
        message: failure.message,
      });
      store.audit({
        app: this.app,
        actor: requestedBy,
        action: 'afterRollback',
        target: record.release,
        outcome: 'failed',
        details: { deployment: record.id, code: failure.code, message: failure.message },
      });
    }
  }

  /** The rolled-back slot drains in the background, then stops; rollback itself does not wait. */
  private retireRolledBackSlot(deployment: DeploymentRecord): void {
    const { router, platform, config, logger } = this.ctx;
    const slot = deployment.toSlot;
    const deadline = new Date(this.ctx.now().getTime() + config.drain.timeout);
    const work = (async () => {
      await router.drain(slot, { deadline });
      for (;;) {
        const status = await router.drainStatus(slot);
        const done = status.kind === 'counted' && status.inFlight === 0 && status.connections === 0;
        if (done || Date.now() >= deadline.getTime()) break;
        await new Promise((resolve) =>
          setTimeout(resolve, status.kind === 'unknown' ? deadline.getTime() - Date.now() : 100),
        );
      }
      const now = this.traffic.current();
      if (now.liveSlot === slot || now.weights[slot] > 0) return; // a newer move made it live again
      await platform.stop(slot, { graceMs: config.platform.stopGrace });
      await this.traffic.setTargets(slot, []);
      await router.cleanup(slot);
    })();
    this.background.add(work);
    work
      .catch((error: unknown) =>
        logger.error('rollback.retire-failed', { slot, error: asCutoverError(error).message }),
      )
      .finally(() => this.background.delete(work))
      .catch(() => undefined);
  }

  private readonly background = new Set<Promise<void>>();

  /**
   * What the engine knows now: routing, lease and deployments from the store, instances as the
   * platform sees them. Never waits behind a provision or stop in progress (Platform.running()
   * does not queue), so the admin API and a scrape answer during a deploy.
   */
  async status(): Promise<EngineStatus> {
    const { store, platform } = this.ctx;
    const [blue, green] = await Promise.all([platform.running('blue'), platform.running('green')]);
    return {
      app: this.app,
      routing: this.traffic.current(),
      lease: store.getLease(this.app) ?? null,
      active: store.unfinishedDeployments(this.app),
      instances: { blue, green },
    };
  }

  /** Unfinished deployments, oldest first, from the store alone (for /metrics). */
  activeDeployments(): DeploymentRecord[] {
    return this.ctx.store.unfinishedDeployments(this.app);
  }

  /** Waits for a deployment's run (tests and the in-process CLI use it). */
  finished(id: string): Promise<DeploymentRecord> | undefined {
    return this.runs.get(id)?.finished;
  }

  /** Stops timers. Runs in progress stay journaled and resume on the next start. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.renewTimer);
    await Promise.allSettled([...this.background]);
  }

  private startRun(id: string): DeploymentRun {
    const existing = this.runs.get(id);
    if (existing) return existing;
    const run = new DeploymentRun(this.ctx, id);
    this.runs.set(id, run);
    run.finished
      .catch((error: unknown) =>
        this.ctx.logger.error('deployment.run-failed', {
          deployment: id,
          error: asCutoverError(error).message,
        }),
      )
      .finally(() => this.runs.delete(id))
      .catch(() => undefined);
    return run;
  }

  /** A new deploy needs the idle slot: a previous deployment still in standby retires now. */
  private async retireStandbys(): Promise<void> {
    for (const deployment of this.ctx.store.unfinishedDeployments(this.app)) {
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

  private findActive(
    id: string | undefined,
    accepts: (record: DeploymentRecord) => boolean,
    action: string,
  ): DeploymentRecord {
    const { store } = this.ctx;
    if (id) {
      const record = store.getDeployment(id);
      if (!record || record.app !== this.app)
        throw new CutoverError('CUTOVER_E_NOT_FOUND', `deployment ${id} not found`);
      if (!accepts(record)) throw invalidState(record, action);
      return record;
    }
    const candidates = store.unfinishedDeployments(this.app).filter(accepts);
    const latest = candidates[candidates.length - 1];
    if (!latest) {
      const last = store.listDeployments(this.app, 1)[0];
      if (last) throw invalidState(last, action);
      throw new CutoverError('CUTOVER_E_NOT_FOUND', `${this.app} has no deployment to ${action}`);
    }
    return latest;
  }

  private renewLeases(): void {
    for (const run of this.runs.values()) {
      const record = this.ctx.store.getDeployment(run.id);
      if (
        !record ||
        (!ABORTABLE_PHASES.has(record.phase) && record.phase !== 'promoted' && record.phase !== 'draining')
      )
        continue;
      const renewed = this.ctx.store.renewLease(
        this.app,
        leaseOwner(this.ctx.processId, run.id),
        DEFAULTS.lockLeaseMs,
        this.ctx.now(),
      );
      if (!renewed) this.ctx.logger.warn('lease.lost', { deployment: run.id });
    }
  }

  /**
   * A live cutover process on this host holds the app's lease (a one-shot CLI running a deploy):
   * reconciling now would stop the instances it is starting, and resuming would drive its
   * deployment twice. Start once it has finished.
   */
  private refuseWhileAnotherProcessDrives(): void {
    const lease = this.ctx.store.getLease(this.app);
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

  /** A lease held by a cutover process on this host that no longer exists is released at once. */
  private takeOverLeaseOfDeadHolder(): void {
    const lease = this.ctx.store.getLease(this.app);
    if (!lease) return;
    const holder = parseLeaseOwner(lease.owner);
    if (!holder || holder.host !== hostname()) return;
    if (holder.pid === process.pid || processExists(holder.pid)) return;
    this.ctx.logger.warn('lease.take-over', { holder: lease.owner });
    this.ctx.store.releaseLease(this.app, lease.owner);
  }
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
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
