import { HealthMonitor } from '../checks/health-monitor.js';
import { waitUntilHealthy } from '../checks/wait-until-healthy.js';
import type { Instance } from '../platforms/platform.js';
import type { DeploymentRecord, FailureReason } from '../store/store.js';
import type { EngineContext } from './engine-context.js';
import { CutoverError, asCutoverError } from './errors.js';
import { Gate, sleep } from './gate.js';
import { assertAllHealthy, checkName } from './health-gate.js';
import { runHook } from './hook-runner.js';
import { smokeHookEnv } from './preview-env.js';
import { ABORTABLE_PHASES, isTerminal, type Phase } from './phase.js';
import { otherSlot, weightsAllOn, weightsWith, type Slot } from './slot.js';

/** Why a run's current wait was interrupted. */
type Interrupt = { kind: 'abort'; reason: FailureReason } | { kind: 'wake' };

const DRAIN_POLL_MS = 100;

/**
 * Drives one deployment through the state machine, from whatever phase the store says it is
 * in. Each phase's work is idempotent and the phase is journaled before the work starts, so
 * a run that dies anywhere can be started again on the same record (invariant 2).
 */
export class DeploymentRun {
  private interrupt = new AbortController();
  private pendingAbort: FailureReason | undefined;
  private gate: Gate | undefined;
  private retireEarly = false;
  readonly finished: Promise<DeploymentRecord>;

  constructor(
    private readonly ctx: EngineContext,
    readonly id: string,
  ) {
    this.finished = this.drive();
  }

  /** Ask the run to abort (only honoured before promotion). */
  abort(reason: FailureReason): void {
    this.pendingAbort = reason;
    this.interrupt.abort({ kind: 'abort', reason } satisfies Interrupt);
  }

  /** Open a manual gate (awaiting-promotion, or a shift step with `gate: manual`). */
  promote(): boolean {
    if (!this.gate) return false;
    this.gate.open();
    return true;
  }

  get waitingForPromotion(): boolean {
    return this.gate !== undefined && !this.gate.isOpen;
  }

  /** End the rollback window now (a new deploy needs the slot). */
  retireNow(): void {
    this.retireEarly = true;
    this.wake();
  }

  /** Cut the current wait short so the loop re-reads the store (after a rollback, say). */
  wake(): void {
    this.interrupt.abort({ kind: 'wake' } satisfies Interrupt);
  }

  private get record(): DeploymentRecord {
    const record = this.ctx.store.getDeployment(this.id);
    if (!record) throw new CutoverError('CUTOVER_E_NOT_FOUND', `deployment ${this.id} not found`);
    return record;
  }

  private async drive(): Promise<DeploymentRecord> {
    for (;;) {
      const record = this.record;
      if (isTerminal(record.phase)) return record;
      if (this.interrupt.signal.aborted) this.interrupt = new AbortController();
      if (this.pendingAbort && ABORTABLE_PHASES.has(record.phase)) {
        await this.abortWith(record, this.pendingAbort);
        continue;
      }
      try {
        await this.step(record);
      } catch (error) {
        const interrupted = this.interruptOf(error);
        if (interrupted?.kind === 'wake') continue;
        const reason: FailureReason = interrupted?.kind === 'abort' ? interrupted.reason : toReason(error);
        const now = this.record;
        if (isTerminal(now.phase)) continue;
        if (ABORTABLE_PHASES.has(now.phase)) {
          await this.abortWith(now, reason);
        } else {
          // After promotion the new slot is live and healthy; a failing side step (a hook, a
          // drain count) must not strand the deployment. Log it and move on.
          this.message('warn', `${now.phase}: ${reason.message}`);
          await this.advancePastFailure(now);
        }
      }
    }
  }

  private async step(record: DeploymentRecord): Promise<void> {
    const handlers: Record<
      Exclude<Phase, 'retired' | 'aborted' | 'rolled-back'>,
      (r: DeploymentRecord) => Promise<void>
    > = {
      pending: (r) => this.transition(r, 'provisioning'),
      provisioning: (r) => this.provision(r),
      verifying: (r) => this.verify(r),
      'awaiting-promotion': (r) => this.awaitPromotion(r),
      shifting: (r) => this.shift(r),
      promoted: (r) => this.promoted(r),
      draining: (r) => this.drain(r),
      standby: (r) => this.standby(r),
    };
    const handler = handlers[record.phase as keyof typeof handlers];
    await handler(record);
  }

  private async provision(record: DeploymentRecord): Promise<void> {
    const { config, platform } = this.ctx;
    if (config.hooks.beforeProvision) {
      await runHook({
        name: 'beforeProvision',
        command: config.hooks.beforeProvision,
        cwd: config.baseDir,
        env: this.hookEnv(record),
        timeoutMs: config.hooks.timeout,
        signal: this.interrupt.signal,
      });
    }
    const instances = await platform.provision(record.toSlot, record.release, {
      signal: this.interrupt.signal,
      onProgress: (line) => this.message('info', line),
    });
    this.ctx.store.update(record.id, {}, { instances: instances.map(describeInstance) });
    await this.transition(record, 'verifying');
  }

  private async verify(record: DeploymentRecord): Promise<void> {
    const { config, platform, traffic } = this.ctx;
    const instances = await platform.running(record.toSlot);
    if (instances.length === 0) {
      throw new CutoverError(
        'CUTOVER_E_PROVISION',
        `no instance of ${record.release} is running in ${record.toSlot}`,
      );
    }
    const targets = platform.healthTargets(instances);
    const byId = new Map(instances.map((instance) => [instance.id, instance]));
    await waitUntilHealthy(targets, config.health, {
      deadlineMs: config.health.deadline,
      signal: this.interrupt.signal,
      isAlive: async (targetId) => {
        const alive = await platform.running(record.toSlot);
        return alive.some((instance) => instance.id === targetId && byId.has(instance.id));
      },
      onProgress: (status) =>
        this.ctx.events.emit({
          type: 'health',
          deploymentId: record.id,
          at: this.now(),
          healthy: status.healthy,
          total: status.total,
          detail: status.detail,
        }),
    });
    this.message(
      'info',
      `${targets.length}/${targets.length} instances of ${record.release} pass ${checkName(config.health)}`,
    );
    // The new slot joins the router with no weight: reachable by the preview route only.
    await traffic.setTargets(record.toSlot, targets, record.release);
    if (config.hooks.smoke) {
      const preview = await this.ctx.router.preview(record.toSlot);
      await runHook({
        name: 'smoke',
        command: config.hooks.smoke,
        cwd: config.baseDir,
        env: { ...this.hookEnv(record), ...smokeHookEnv(preview) },
        timeoutMs: config.hooks.timeout,
        signal: this.interrupt.signal,
        failureCode: 'CUTOVER_E_SMOKE',
      });
      this.message('info', 'smoke test passed through the preview route');
    }
    const manual = config.strategy.promotion === 'manual';
    await this.transition(record, manual ? 'awaiting-promotion' : 'shifting');
  }

  private async awaitPromotion(record: DeploymentRecord): Promise<void> {
    this.message('info', `waiting for \`cutover promote\` to move traffic to ${record.release}`);
    await this.waitForGate();
    await this.transition(record, 'shifting');
  }

  private async shift(record: DeploymentRecord): Promise<void> {
    const { config, platform, traffic } = this.ctx;
    // A first deploy has no old slot to share traffic with: it takes all of it in one step
    // (a 50% step would ask the router to send half the traffic to an empty slot).
    const steps = record.fromSlot === null ? [{ weight: 100 }] : shiftSteps(config.strategy);
    for (let index = Math.max(0, record.step); index < steps.length; index += 1) {
      const step = steps[index]!;
      if (index !== this.record.step)
        this.ctx.store.update(record.id, { step: index }, { weight: step.weight });
      const targets = platform.healthTargets(await platform.running(record.toSlot));
      await assertAllHealthy(targets, config.health, `${record.toSlot} (${record.release})`);
      const weights = weightsWith(record.toSlot, step.weight);
      const liveSlot = step.weight === 100 || record.fromSlot === null ? record.toSlot : record.fromSlot;
      await traffic.moveWeights(weights, liveSlot);
      this.ctx.events.emit({
        type: 'weights',
        deploymentId: record.id,
        at: this.now(),
        weights,
        step: index,
      });
      if (step.weight === 100) break;
      if (step.gate === 'manual') {
        this.message('info', `${step.weight}% on ${record.release}; waiting for \`cutover promote\``);
        await this.watchHealth(record, () => this.waitForGate());
      } else if (step.pause !== undefined) {
        const pause = step.pause;
        await this.watchHealth(record, () => sleep(pause, this.interrupt.signal));
      }
    }
    await this.transition(record, 'promoted');
  }

  private async promoted(record: DeploymentRecord): Promise<void> {
    const { config, store } = this.ctx;
    store.recordRelease(record.app, record.release);
    store.audit({
      app: record.app,
      actor: record.requestedBy,
      action: 'promote',
      target: record.release,
      outcome: 'ok',
      details: { deployment: record.id, slot: record.toSlot },
    });
    if (config.hooks.afterPromote) {
      await this.optionalHook('afterPromote', config.hooks.afterPromote, record);
    }
    const deadline = new Date(this.ctx.now().getTime() + config.drain.timeout);
    await this.transition(record, 'draining', { drainDeadline: deadline.toISOString() });
  }

  private async drain(record: DeploymentRecord): Promise<void> {
    const { router, config } = this.ctx;
    const deadline = new Date(record.drainDeadline ?? this.ctx.now().toISOString());
    if (record.fromSlot !== null) {
      await router.drain(record.fromSlot, { deadline });
      await this.waitDrained(record.fromSlot, deadline);
    }
    const until = new Date(this.ctx.now().getTime() + config.rollbackWindow);
    await this.transition(record, 'standby', { standbyUntil: until.toISOString() });
    this.ctx.store.releaseLease(record.app, this.ctx.processId + ' ' + record.id);
  }

  private async standby(record: DeploymentRecord): Promise<void> {
    this.ctx.store.releaseLease(record.app, this.ctx.processId + ' ' + record.id);
    const until = new Date(record.standbyUntil ?? this.ctx.now().toISOString()).getTime();
    if (!this.retireEarly && record.fromSlot !== null) {
      await sleep(until - this.ctx.now().getTime(), this.interrupt.signal);
    }
    await this.retire(record);
  }

  private async retire(record: DeploymentRecord): Promise<void> {
    const { platform, traffic, router, config } = this.ctx;
    await this.transition(record, 'retired');
    if (record.fromSlot === null) return;
    await platform.stop(record.fromSlot, { graceMs: config.platform.stopGrace });
    await traffic.setTargets(record.fromSlot, []);
    await router.cleanup(record.fromSlot);
    this.message('info', `${record.fromSlot} (${record.fromRelease ?? 'previous release'}) retired`);
  }

  /** Traffic back to the old slot, new slot stopped: the deploy never happened for users. */
  private async abortWith(record: DeploymentRecord, reason: FailureReason): Promise<void> {
    const { traffic, platform, config, store } = this.ctx;
    await this.transition(record, 'aborted', { reason }, { announce: false });
    store.audit({
      app: record.app,
      actor: record.requestedBy,
      action: 'deploy',
      target: record.release,
      outcome: 'failed',
      details: { deployment: record.id, reason },
    });
    try {
      if (record.fromSlot !== null) {
        const current = traffic.current();
        await traffic.apply({
          liveSlot: record.fromSlot,
          weights: weightsAllOn(record.fromSlot),
          targets: { ...current.targets, [record.toSlot]: [] },
          releases: { ...current.releases, [record.toSlot]: undefined },
        });
      } else {
        await traffic.setTargets(record.toSlot, []);
      }
      await platform.stop(record.toSlot, { graceMs: config.platform.stopGrace });
      await this.ctx.router.cleanup(record.toSlot);
    } finally {
      store.releaseLease(record.app, this.ctx.processId + ' ' + record.id);
      // Announced once traffic is back, the new slot stopped and the lease free: a client that
      // returns on this event (`cutover deploy`, `cutover abort`) finds the app ready again.
      this.announcePhase(this.record);
    }
  }

  private async advancePastFailure(record: DeploymentRecord): Promise<void> {
    if (record.phase === 'promoted') {
      const deadline = new Date(this.ctx.now().getTime() + this.ctx.config.drain.timeout);
      await this.transition(record, 'draining', { drainDeadline: deadline.toISOString() });
    } else if (record.phase === 'draining') {
      const until = new Date(this.ctx.now().getTime() + this.ctx.config.rollbackWindow);
      await this.transition(record, 'standby', { standbyUntil: until.toISOString() });
    } else if (record.phase === 'standby') {
      // Retiring failed (the platform could not stop the old slot): record it and stop trying.
      await this.transition(record, 'retired');
    }
  }

  private async waitDrained(slot: Slot, deadline: Date): Promise<void> {
    for (;;) {
      const status = await this.ctx.router.drainStatus(slot);
      if (status.kind === 'counted' && status.inFlight === 0 && status.connections === 0) return;
      const left = deadline.getTime() - this.ctx.now().getTime();
      if (left <= 0) {
        if (status.kind === 'counted' && status.inFlight + status.connections > 0) {
          this.message(
            'warn',
            `drain deadline reached with ${status.inFlight} requests and ${status.connections} connections on ${slot}`,
          );
        }
        return;
      }
      // A router that cannot count waits out the drain timeout: nothing in flight is cut early.
      await sleep(status.kind === 'unknown' ? left : Math.min(DRAIN_POLL_MS, left), this.interrupt.signal);
    }
  }

  /** Runs `wait` while watching the new slot's health; an unhealthy instance aborts the shift. */
  private async watchHealth(record: DeploymentRecord, wait: () => Promise<void>): Promise<void> {
    const { platform, config } = this.ctx;
    const targets = platform.healthTargets(await platform.running(record.toSlot));
    const monitor = new HealthMonitor(targets, config.health);
    const unhealthy = new Promise<never>((_, reject) => {
      monitor.on('unhealthy', (target: { id: string }, detail: string) =>
        reject(
          new CutoverError(
            'CUTOVER_E_HEALTH',
            `${target.id} failed its ${checkName(config.health)} check during the shift: ${detail}`,
            {
              details: { check: checkName(config.health), target: target.id },
            },
          ),
        ),
      );
    });
    unhealthy.catch(() => undefined);
    monitor.start();
    try {
      await Promise.race([wait(), unhealthy]);
    } finally {
      monitor.stop();
    }
  }

  private async waitForGate(): Promise<void> {
    this.gate = new Gate();
    try {
      await this.gate.wait(this.interrupt.signal);
    } finally {
      this.gate = undefined;
    }
  }

  private async optionalHook(
    name: string,
    command: string | string[],
    record: DeploymentRecord,
  ): Promise<void> {
    try {
      await runHook({
        name,
        command,
        cwd: this.ctx.config.baseDir,
        env: this.hookEnv(record),
        timeoutMs: this.ctx.config.hooks.timeout,
      });
    } catch (error) {
      this.message('warn', asCutoverError(error).message);
    }
  }

  /** Records the phase and, unless `announce` is false, tells the event stream at once. */
  private async transition(
    record: DeploymentRecord,
    to: Phase,
    patch = {},
    { announce = true } = {},
  ): Promise<void> {
    const next = this.ctx.store.transition(record.id, to, patch);
    this.ctx.logger.info('deployment.phase', { deployment: record.id, phase: to, release: record.release });
    if (announce) this.announcePhase(next);
    return Promise.resolve();
  }

  private announcePhase(record: DeploymentRecord): void {
    this.ctx.events.emit({
      type: 'phase',
      deploymentId: record.id,
      phase: record.phase,
      release: record.release,
      at: this.now(),
      ...(record.reason ? { reason: record.reason } : {}),
    });
  }

  private message(level: 'info' | 'warn' | 'error', message: string): void {
    this.ctx.logger[level]('deployment.message', { deployment: this.id, message });
    this.ctx.events.emit({ type: 'message', deploymentId: this.id, at: this.now(), level, message });
  }

  private hookEnv(record: DeploymentRecord): Record<string, string> {
    return hookEnvOf(record);
  }

  private interruptOf(error: unknown): Interrupt | undefined {
    if (this.interrupt.signal.aborted && error === this.interrupt.signal.reason) return error as Interrupt;
    const reason = this.interrupt.signal.reason as Interrupt | undefined;
    if (this.interrupt.signal.aborted && reason) return reason;
    return undefined;
  }

  private now(): string {
    return this.ctx.now().toISOString();
  }
}

/** The steps of the configured strategy; the last one always puts 100% on the new slot. */
export function shiftSteps(
  strategy: EngineContext['config']['strategy'],
): Array<{ weight: number; pause?: number; gate?: 'manual' }> {
  if (strategy.kind === 'switch') return [{ weight: 100 }];
  const steps = strategy.steps.map((step) => ({ ...step }));
  if (steps[steps.length - 1]?.weight !== 100) steps.push({ weight: 100 });
  return steps;
}

export function toReason(error: unknown): FailureReason {
  const failure = asCutoverError(error);
  return { code: failure.code, message: failure.message };
}

/** The environment every hook of a deployment gets (afterRollback, run by the engine, too). */
export function hookEnvOf(record: DeploymentRecord): Record<string, string> {
  return {
    CUTOVER_APP: record.app,
    CUTOVER_DEPLOYMENT: record.id,
    CUTOVER_RELEASE: record.release,
    CUTOVER_SLOT: record.toSlot,
    CUTOVER_PREVIOUS_SLOT: record.fromSlot ?? '',
    CUTOVER_PREVIOUS_RELEASE: record.fromRelease ?? '',
  };
}

function describeInstance(instance: Instance): Record<string, unknown> {
  return { id: instance.id, host: instance.host, port: instance.port, ...instance.meta };
}

export { otherSlot };
