import { HealthMonitor } from '../checks/health-monitor.js';
import { describeFinding, type AnalysisFinding } from '../shared/analysis.js';
import { AnalysisWatch, analysisFailure, type WatchOutcome, type WatchScope } from './analysis-watch.js';
import { shadowAnalysis } from '../analysis/shadow/index.js';
import { waitUntilHealthy } from '../checks/wait-until-healthy.js';
import type { Instance } from '../shared/platform.js';
import type { DeploymentPatch, DeploymentRecord, FailureReason } from '../shared/store.js';
import { engineCrashPoint } from '../shared/crash-point.js';
import type { EngineContext } from './engine-context.js';
import { CutoverError, asCutoverError, isCutoverError } from '../shared/errors.js';
import { Gate, sleep } from './gate.js';
import { assertAllHealthy, checkName } from './health-gate.js';
import { runHook } from './hook-runner.js';
import { smokeHookEnv } from './preview-env.js';
import {
  ABORTABLE_PHASES,
  FINAL_PHASE_OF,
  isTerminal,
  isUnwinding,
  type Phase,
  type UnwindingPhase,
} from '../shared/phase.js';
import { parkOldSlot, unparkOldSlot } from './cold-standby.js';
import { drainSlot, retireSlot } from './slot-retirement.js';
import { transitionDeployment } from './transitions.js';
import { otherSlot, weightsAllOn, weightsWith } from '../shared/slot.js';
import type { DesiredRouting, MoveContext } from './traffic.js';

/** Why a run's current wait was interrupted. */
type Interrupt = { kind: 'wake' } | { kind: 'stop'; why: StopReason };

/** Why a run stops where it is, leaving its deployment journaled and unfinished. */
type StopReason = 'shutdown' | 'lease-lost';

/** Backoff of a traffic move back to the old slot that failed: doubles up to the cap. */
const MOVE_RETRY_FIRST_MS = 200;
const MOVE_RETRY_MAX_MS = 5_000;

interface OutcomeWaiter {
  resolve(record: DeploymentRecord): void;
  reject(error: Error): void;
}

/**
 * Drives one deployment through the state machine, from whatever phase the store says it is
 * in. Each phase's work is idempotent and the phase is journaled before the work starts, so
 * a run that dies anywhere can be started again on the same record (invariant 2).
 *
 * Abort and rollback are phases too: the engine journals the intent (`aborting`,
 * `rolling-back`), the run moves traffic back, retrying until the router verifies it, then
 * writes the final phase and drains and stops the new slot.
 */
export class DeploymentRun {
  private interrupt = new AbortController();
  private stopReason: StopReason | undefined;
  private gate: Gate | undefined;
  private retireEarly = false;
  private skipHealthProbeOnce = false;
  private waiters: OutcomeWaiter[] = [];
  /** The final phase of an abort or rollback is written: nothing left to retry, so no wake. */
  private unwound = false;
  /** The drive loop has returned: a new abort or rollback needs a new run. */
  ended = false;
  readonly finished: Promise<DeploymentRecord>;

  constructor(
    private readonly ctx: EngineContext,
    readonly id: string,
  ) {
    this.finished = this.drive().finally(async () => {
      this.ended = true;
      await this.rejectWaiters();
    });
  }

  /**
   * Resolves once the deployment reaches its final phase after an abort or rollback intent;
   * rejects with the error of the next failed attempt to move traffic back (the run keeps
   * retrying: a second `cutover rollback` waits for the next attempt).
   */
  outcome(): Promise<DeploymentRecord> {
    // Registered at once, so a final phase written while the store is read is not missed.
    const outcome = new Promise<DeploymentRecord>((resolve, reject) =>
      this.waiters.push({ resolve, reject }),
    );
    this.read()
      .then((record) => {
        if (isTerminal(record.phase)) this.settleWaiters(record);
        else if (this.ended) return this.rejectWaiters();
      })
      .catch((error: unknown) => this.failWaiters(asCutoverError(error)));
    return outcome;
  }

  /** The engine already probed the old slot for this rollback: the first attempt skips it. */
  oldSlotJustProbed(): void {
    this.skipHealthProbeOnce = true;
  }

  /**
   * Stop at the next safe point, leaving the deployment journaled as it is: a wait is cut
   * short, a traffic move in progress finishes. Nothing is recorded as failed.
   */
  stop(why: StopReason): void {
    this.stopReason ??= why;
    this.interrupt.abort({ kind: 'stop', why } satisfies Interrupt);
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
    // A second `cutover rollback` joining this one must not cut the new slot's drain short.
    if (this.unwound) return;
    this.interrupt.abort({ kind: 'wake' } satisfies Interrupt);
  }

  private async read(): Promise<DeploymentRecord> {
    const record = await this.ctx.store.getDeployment(this.id);
    if (!record) throw new CutoverError('CUTOVER_E_NOT_FOUND', `deployment ${this.id} not found`);
    return record;
  }

  private async drive(): Promise<DeploymentRecord> {
    for (;;) {
      const record = await this.read();
      if (isTerminal(record.phase)) return record;
      if (this.stopReason) return this.stopped(record);
      if (this.interrupt.signal.aborted) this.interrupt = new AbortController();
      try {
        await this.step(record);
      } catch (error) {
        if (this.stopReason) return this.stopped(await this.read());
        const now = await this.read();
        // An abort or rollback intent written meanwhile (or any newer phase) wins: go on from it.
        if (now.phase !== record.phase || isTerminal(now.phase)) continue;
        if (this.interruptOf(error)?.kind === 'wake') continue;
        try {
          await this.afterFailure(now, toReason(error));
        } catch (followUp) {
          // The record moved between the read above and this write (an abort or a rollback
          // journaled by the engine meanwhile): nothing was written; go on from the new phase.
          if (!isCutoverError(followUp, 'CUTOVER_E_PHASE_CHANGED')) throw followUp;
        }
      }
    }
  }

  /** What a failed step leads to, from the phase it failed in. */
  private async afterFailure(now: DeploymentRecord, reason: FailureReason): Promise<void> {
    if (ABORTABLE_PHASES.has(now.phase)) {
      await this.transition(now, 'aborting', { reason });
    } else if (isUnwinding(now.phase)) {
      // unwind() retries the move itself; what reaches here failed to write the final
      // phase: say so and go round again (the move is idempotent).
      this.message('error', `${now.phase}: ${reason.message}`);
      await sleep(MOVE_RETRY_FIRST_MS, this.interrupt.signal).catch(() => undefined);
    } else {
      // After promotion the new slot is live and healthy; a failing side step (a hook, a
      // drain count) must not strand the deployment. Log it and move on.
      this.message('warn', `${now.phase}: ${reason.message}`);
      await this.advancePastFailure(now);
    }
  }

  private async step(record: DeploymentRecord): Promise<void> {
    const handlers: Record<
      Exclude<Phase, 'retired' | 'aborted' | 'rolled-back'>,
      (r: DeploymentRecord) => Promise<void>
    > = {
      aborting: (r) => this.unwind(r, 'aborting'),
      'rolling-back': (r) => this.unwind(r, 'rolling-back'),
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
        killGraceMs: config.hooks.killGrace,
        signal: this.interrupt.signal,
      });
    }
    const instances = await platform.provision(record.toSlot, record.release, {
      signal: this.interrupt.signal,
      onProgress: (line) => this.message('info', line),
      deploymentId: record.id,
    });
    await this.ctx.store.update(record.id, {}, { instances: instances.map(describeInstance) });
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
    // The new slot joins the router with no weight: reachable by the preview route only. A
    // platform whose slot is a group (an Auto Scaling group …) adds the group's endpoint.
    const endpoint = platform.endpoint?.(record.toSlot, instances);
    await traffic.setTargets(record.toSlot, targets, record.release, endpoint, this.move());
    if (config.hooks.smoke) {
      const preview = await this.ctx.router.preview(record.toSlot);
      await runHook({
        name: 'smoke',
        command: config.hooks.smoke,
        cwd: config.baseDir,
        env: { ...this.hookEnv(record), ...smokeHookEnv(preview) },
        timeoutMs: config.hooks.timeout,
        killGraceMs: config.hooks.killGrace,
        signal: this.interrupt.signal,
        failureCode: 'CUTOVER_E_SMOKE',
      });
      this.message('info', 'smoke test passed through the preview route');
    }
    if (record.fromSlot !== null && config.analysis?.shadow !== undefined) await this.shadowStage(record);
    const manual = config.strategy.promotion === 'manual';
    await this.transition(record, manual ? 'awaiting-promotion' : 'shifting');
  }

  /**
   * Before any traffic moves: the new slot, idle and healthy, gets the proxy's mirrored copies of
   * live requests for `analysis.shadow.duration`, and the shadow provider judges how often its
   * answers differ. What it saw (counts, differing samples) is journaled for `cutover diff`; a
   * failed verdict fails the deployment here, traffic never having left the old slot. Rerun
   * whole after a restart (verifying is redone from its start).
   */
  private async shadowStage(record: DeploymentRecord): Promise<void> {
    const analysis = this.ctx.config.analysis!;
    const shadow = analysis.shadow!;
    const startMs = this.ctx.now().getTime();
    this.message(
      'info',
      `comparing ${record.release}'s answers with ${record.fromRelease ?? 'the live release'}'s on mirrored requests for ${shadow.duration / 1000}s`,
    );
    const provider = await shadowAnalysis.create(shadow, {
      logger: this.ctx.logger,
      ...(this.ctx.shadow === undefined ? {} : { shadow: this.ctx.shadow }),
    });
    const watch = new AnalysisWatch(this.ctx, analysis, [provider]);
    let outcome: WatchOutcome;
    try {
      outcome = await watch.watch(record, {
        stage: 'shadow',
        startMs,
        untilMs: startMs + shadow.duration,
        signal: this.interrupt.signal,
      });
    } finally {
      watch.close();
    }
    const findings = outcome.kind === 'failed' ? [outcome.finding] : outcome.findings;
    await this.ctx.store.update(
      record.id,
      {},
      {
        shadow: {
          startedAt: new Date(startMs).toISOString(),
          finding: findings[0] ?? null,
          samples: this.ctx.shadow?.samples(record.toSlot, startMs) ?? [],
        },
      },
    );
    const where = `in the shadow comparison before promotion`;
    if (outcome.kind === 'failed') throw analysisFailure(outcome.finding, where);
    await this.settleInconclusive(outcome.findings, where);
  }

  private async awaitPromotion(record: DeploymentRecord): Promise<void> {
    await this.waitForGate(this.interrupt.signal, {
      level: 'info',
      text: `waiting for \`cutover promote\` to move traffic to ${record.release}`,
    });
    await this.transition(record, 'shifting');
  }

  private async shift(record: DeploymentRecord): Promise<void> {
    const { config, platform, traffic } = this.ctx;
    // A first deploy has no old slot to share traffic with: it takes all of it in one step
    // (a 50% step would ask the router to send half the traffic to an empty slot).
    const steps = record.fromSlot === null ? [{ weight: 100 }] : shiftSteps(config.strategy);
    for (let index = Math.max(0, record.step); index < steps.length; index += 1) {
      const step = steps[index]!;
      const current = await this.assertStillIn(record, 'shifting');
      if (index !== current.step)
        await this.ctx.store.update(record.id, { step: index }, { weight: step.weight });
      const targets = platform.healthTargets(await platform.running(record.toSlot));
      await assertAllHealthy(targets, config.health, `${record.toSlot} (${record.release})`);
      const weights = weightsWith(record.toSlot, step.weight);
      const liveSlot = step.weight === 100 || record.fromSlot === null ? record.toSlot : record.fromSlot;
      // An abort journaled during a step wins over the next move (and `promoted` is written
      // only from `shifting`, compare-and-set, so an abort during the last step is never lost).
      await this.assertStillIn(record, 'shifting');
      await traffic.moveWeights(weights, liveSlot, this.move());
      this.ctx.events.emit({
        type: 'weights',
        deploymentId: record.id,
        at: this.now(),
        weights,
        step: index,
      });
      if (step.weight === 100) break;
      const where = `at shift step ${index + 1} (${step.weight}% on ${record.release})`;
      if (step.gate === 'manual') {
        const announce = `${step.weight}% on ${record.release}; waiting for \`cutover promote\``;
        await this.watchHealth(record, () =>
          this.gateWithAnalysis(record, index, where, { level: 'info', text: announce }),
        );
      } else if (step.pause !== undefined) {
        const pause = step.pause;
        await this.watchHealth(record, () => this.pauseWithAnalysis(record, index, pause, where));
      }
    }
    await this.transition(record, 'promoted');
  }

  private async promoted(record: DeploymentRecord): Promise<void> {
    // A bake that started is journaled: a restart resumes it without announcing the promotion again.
    if (record.bakeUntil === null) await this.announcePromotion(record);
    const bake = this.bakeDuration(record);
    if (bake > 0) {
      const passed = await this.bake(record, bake);
      if (!passed) return;
    }
    const deadline = new Date(this.ctx.now().getTime() + this.ctx.config.drain.timeout);
    await this.transition(record, 'draining', { drainDeadline: deadline.toISOString() });
  }

  /** The bake of a deployment: none on a first deploy (there is nothing to roll back to). */
  private bakeDuration(record: DeploymentRecord): number {
    if (record.fromSlot === null) return 0;
    return this.ctx.config.analysis?.bake ?? 0;
  }

  /**
   * Watches the live new release for the bake period (journaled as it starts, so a restart goes
   * on until the same end). A failed verdict journals the rollback intent, which the loop then
   * acts on like any rollback; returns false then.
   */
  private async bake(record: DeploymentRecord, bake: number): Promise<boolean> {
    let baking = record;
    if (record.bakeUntil === null) {
      const startedAt = this.ctx.now();
      const until = new Date(startedAt.getTime() + bake).toISOString();
      baking = await this.ctx.store.update(
        record.id,
        { bakeUntil: until },
        { bake: { startedAt: startedAt.toISOString(), until } },
      );
      this.message('info', `baking ${record.release} until ${until}; a failed analysis rolls back`);
    } else {
      this.message('info', `resuming the bake of ${record.release} until ${record.bakeUntil}`);
    }
    const untilMs = Date.parse(baking.bakeUntil ?? '');
    const outcome = await this.analyse(baking, {
      stage: 'bake',
      startMs: untilMs - bake,
      untilMs,
      signal: this.interrupt.signal,
    });
    if (outcome.kind === 'failed') {
      await this.rollBackOnAnalysis(baking, outcome.finding);
      return false;
    }
    await this.settleInconclusive(outcome.findings, `after the bake of ${record.release}`);
    this.message('info', `the bake of ${record.release} passed`);
    return true;
  }

  /**
   * A failed verdict during the bake: the rollback intent is journaled with the verdict as its
   * reason, and the run's loop unwinds it like a `cutover rollback` (one path for both).
   */
  private async rollBackOnAnalysis(record: DeploymentRecord, finding: AnalysisFinding): Promise<void> {
    const reason = {
      code: 'CUTOVER_E_ANALYSIS',
      message: `rolled back automatically during the bake: ${describeFinding(finding)}`,
      analysis: finding,
    };
    await this.ctx.store.audit({
      app: record.app,
      actor: 'analysis',
      action: 'rollback',
      target: record.release,
      outcome: 'ok',
      details: { deployment: record.id, analysis: finding },
    });
    const next = await transitionDeployment(this.ctx.store, record.id, 'rolling-back', {
      expectedPhase: record.phase,
      patch: { reason },
      data: { analysis: finding },
    });
    this.ctx.logger.warn('deployment.phase', {
      deployment: record.id,
      phase: next.phase,
      reason: reason.message,
    });
    this.announcePhase(next);
  }

  /** A shift step's pause, with the providers asked during it; a failed verdict aborts the shift. */
  private async pauseWithAnalysis(
    record: DeploymentRecord,
    step: number,
    pause: number,
    where: string,
  ): Promise<void> {
    if (!this.ctx.config.analysis?.duringShift) return sleep(pause, this.interrupt.signal);
    const startMs = this.ctx.now().getTime();
    const outcome = await this.analyse(record, {
      stage: 'shift',
      step,
      startMs,
      untilMs: startMs + pause,
      signal: this.interrupt.signal,
    });
    if (outcome.kind === 'failed') throw analysisFailure(outcome.finding, where);
    await this.settleInconclusive(outcome.findings, where);
  }

  /** A manual shift gate, with the providers asked while it waits; a failed verdict aborts the shift. */
  private async gateWithAnalysis(
    record: DeploymentRecord,
    step: number,
    where: string,
    announce: GateAnnouncement,
  ): Promise<void> {
    if (!this.ctx.config.analysis?.duringShift) return this.waitForGate(this.interrupt.signal, announce);
    const scope = new AbortController();
    const cancel = (): void => scope.abort(this.interrupt.signal.reason);
    const outer = this.interrupt.signal;
    if (outer.aborted) cancel();
    else outer.addEventListener('abort', cancel, { once: true });
    const gate = this.waitForGate(scope.signal, announce).then(() => undefined);
    const watching = this.analyse(record, {
      stage: 'shift',
      step,
      startMs: this.ctx.now().getTime(),
      untilMs: Infinity,
      signal: scope.signal,
    });
    try {
      const outcome = await Promise.race([gate, watching]);
      if (outcome?.kind === 'failed') throw analysisFailure(outcome.finding, where);
    } finally {
      outer.removeEventListener('abort', cancel);
      scope.abort(new Error('the gate wait ended'));
      gate.catch(() => undefined);
      watching.catch(() => undefined);
    }
  }

  /** The providers asked over one window, the clients let go after. */
  private async analyse(record: DeploymentRecord, scope: WatchScope): Promise<WatchOutcome> {
    const config = this.ctx.config.analysis;
    if (!config) return { kind: 'done', findings: [] };
    const watch = await AnalysisWatch.create(this.ctx, config);
    try {
      return await watch.watch(record, scope);
    } finally {
      watch.close();
    }
  }

  /**
   * The last check of a window was inconclusive (too little traffic, a provider unreachable):
   * with `onInconclusive: gate` an operator decides, by `cutover promote` (go on) or
   * `cutover rollback` / `cutover abort`.
   */
  private async settleInconclusive(findings: readonly AnalysisFinding[], where: string): Promise<void> {
    const unsure = findings.filter((finding) => finding.verdict === 'inconclusive');
    if (unsure.length === 0 || this.ctx.config.analysis?.onInconclusive === 'pass') return;
    await this.waitForGate(this.interrupt.signal, {
      level: 'warn',
      text: `analysis inconclusive ${where}: ${unsure.map(describeFinding).join('; ')}; waiting for \`cutover promote\` (or roll back)`,
    });
  }

  /** The release is live: recorded, audited, and the afterPromote hook run. */
  private async announcePromotion(record: DeploymentRecord): Promise<void> {
    const { config, store } = this.ctx;
    await store.recordRelease(record.app, record.release);
    await store.audit({
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
  }

  private async drain(record: DeploymentRecord): Promise<void> {
    const { config } = this.ctx;
    const deadline = new Date(record.drainDeadline ?? this.ctx.now().toISOString());
    if (record.fromSlot !== null) {
      const left = await drainSlot(this.ctx, record.fromSlot, deadline, this.interrupt.signal);
      if (left.inFlight + left.connections > 0) {
        this.message(
          'warn',
          `drain deadline reached with ${left.inFlight} requests and ${left.connections} connections on ${record.fromSlot}`,
        );
      }
      // A platform with a cold standby parks the old slot now that nothing reaches it.
      if (await parkOldSlot(this.ctx, record)) {
        this.message('info', `${record.fromSlot} parked at capacity 0; a rollback restores it first`);
      }
    }
    const until = new Date(this.ctx.now().getTime() + config.rollbackWindow);
    await this.transition(record, 'standby', { standbyUntil: until.toISOString() });
    await this.ctx.lease.release(record.id);
  }

  private async standby(record: DeploymentRecord): Promise<void> {
    await this.ctx.lease.release(record.id);
    const until = new Date(record.standbyUntil ?? this.ctx.now().toISOString()).getTime();
    if (!this.retireEarly && record.fromSlot !== null) {
      await sleep(until - this.ctx.now().getTime(), this.interrupt.signal);
    }
    await this.retire(record);
  }

  private async retire(record: DeploymentRecord): Promise<void> {
    const { platform, traffic, router } = this.ctx;
    await this.transition(record, 'retired');
    if (record.fromSlot === null) return;
    await platform.stop(record.fromSlot, { graceMs: platform.describe().stopGraceMs });
    await traffic.setTargets(record.fromSlot, [], undefined, undefined, this.move());
    await router.cleanup(record.fromSlot);
    this.message('info', `${record.fromSlot} (${record.fromRelease ?? 'previous release'}) retired`);
  }

  /**
   * Abort or rollback, from its journaled intent: traffic back on the old slot (retried until
   * the router verifies it), the final phase, then the new slot drained and stopped.
   */
  private async unwind(record: DeploymentRecord, phase: UnwindingPhase): Promise<void> {
    const { store } = this.ctx;
    await this.moveBack(record, phase);
    const final = await transitionDeployment(store, record.id, FINAL_PHASE_OF[phase], {
      expectedPhase: phase,
      data: { slot: record.fromSlot },
    });
    // A wake that came during the move (a joining call) is spent: the drain below waits in full.
    this.unwound = true;
    if (!this.stopReason && this.interrupt.signal.aborted) this.interrupt = new AbortController();
    this.ctx.logger.info('deployment.phase', { deployment: record.id, phase: final.phase });
    engineCrashPoint('unwind.after-final');
    // The lease goes with the final phase: a next deploy in this process waits for the new
    // slot to be stopped first (DeploymentEngine.deploy), and a restart retires it.
    await this.ctx.lease.release(record.id);
    if (phase === 'rolling-back') {
      // Rollback is instant for users: announced as soon as traffic is verified back; the
      // new slot drains after. An abort is announced once the new slot is stopped (below), so
      // a client returning on that event finds the app ready for the next deploy.
      this.announcePhase(final);
      await this.runAfterRollbackHook(final);
    } else {
      await store.audit({
        app: record.app,
        actor: record.requestedBy,
        action: 'deploy',
        target: record.release,
        outcome: 'failed',
        details: { deployment: record.id, reason: record.reason },
      });
    }
    this.settleWaiters(final);
    try {
      await retireSlot(this.ctx, record.toSlot, this.interrupt.signal);
      this.message('info', `${record.toSlot} (${record.release}) stopped`);
    } catch (error) {
      // The final phase stands; the next start retires the slot (see DeploymentEngine.recover).
      if (!this.stopReason)
        this.message('error', `retiring ${record.toSlot}: ${asCutoverError(error).message}`);
    } finally {
      if (phase === 'aborting') this.announcePhase(await this.read());
    }
  }

  /** The idempotent move back, retried with backoff until verified; a wake retries at once. */
  private async moveBack(record: DeploymentRecord, phase: UnwindingPhase): Promise<void> {
    let delay = MOVE_RETRY_FIRST_MS;
    for (let attempt = 1; ; attempt += 1) {
      try {
        engineCrashPoint('unwind.before-move');
        await this.ctx.traffic.apply(await this.routingBack(record, phase), this.move());
        engineCrashPoint('unwind.after-move');
        return;
      } catch (error) {
        if (this.stopReason) throw error;
        const failure = asCutoverError(error);
        this.message(
          'warn',
          `${phase}: moving traffic back to ${record.fromSlot ?? 'no slot'} failed (attempt ${attempt}), retrying in ${delay} ms: ${failure.message}`,
        );
        this.failWaiters(failure);
        await this.ctx.store.update(record.id, {}, { attempt, failed: toReason(failure) });
      }
      try {
        await sleep(delay, this.interrupt.signal);
      } catch (error) {
        if (this.stopReason) throw error;
        this.interrupt = new AbortController(); // woken by a retried abort or rollback: go now
      }
      delay = Math.min(delay * 2, MOVE_RETRY_MAX_MS);
    }
  }

  /** Where traffic goes back to: all of it on the old slot, the new slot kept until it drained. */
  private async routingBack(record: DeploymentRecord, phase: UnwindingPhase): Promise<DesiredRouting> {
    const { platform, config, traffic } = this.ctx;
    const current = await traffic.current();
    if (record.fromSlot === null) {
      // A first deploy has no old slot: the new one is taken out of the router at once.
      const releases = { ...current.releases };
      delete releases[record.toSlot];
      const endpoints = { ...current.endpoints };
      delete endpoints[record.toSlot];
      return {
        liveSlot: null,
        weights: current.weights,
        targets: { ...current.targets, [record.toSlot]: [] },
        releases,
        endpoints,
      };
    }
    let targets = current.targets[record.fromSlot];
    let endpoints = current.endpoints ?? {};
    if (phase === 'rolling-back') {
      // A parked old slot serves again before the move back (its capacity as journaled).
      const unparked = await unparkOldSlot(this.ctx, record, this.interrupt.signal);
      const running = await platform.running(record.fromSlot);
      targets = platform.healthTargets(running);
      const endpoint = platform.endpoint?.(record.fromSlot, running);
      if (endpoint !== undefined) endpoints = { ...endpoints, [record.fromSlot]: endpoint };
      if (unparked || !this.skipHealthProbeOnce) {
        await assertAllHealthy(
          targets,
          config.health,
          `previous slot ${record.fromSlot} (${record.fromRelease ?? 'previous release'})`,
        );
      }
      this.skipHealthProbeOnce = false;
    }
    return {
      liveSlot: record.fromSlot,
      weights: weightsAllOn(record.fromSlot),
      targets: { ...current.targets, [record.fromSlot]: targets },
      releases: current.releases,
      endpoints,
    };
  }

  /**
   * hooks.afterRollback, with the environment of the deployment's other hooks. The rollback is
   * done (journaled, traffic moved and verified) before it runs: a failure is logged, shown on
   * the event stream and audited, and undoes nothing.
   */
  private async runAfterRollbackHook(record: DeploymentRecord): Promise<void> {
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
        killGraceMs: config.hooks.killGrace,
      });
      logger.info('hook.ok', { hook: 'afterRollback', deployment: record.id });
    } catch (error) {
      const failure = asCutoverError(error);
      logger.error('hook.failed', { hook: 'afterRollback', deployment: record.id, error: failure.message });
      this.message('warn', failure.message);
      await store.audit({
        app: record.app,
        actor: record.requestedBy,
        action: 'afterRollback',
        target: record.release,
        outcome: 'failed',
        details: { deployment: record.id, code: failure.code, message: failure.message },
      });
    }
  }

  /** The run stops here; the deployment stays as journaled and resumes at the next start. */
  private async stopped(record: DeploymentRecord): Promise<DeploymentRecord> {
    if (this.stopReason === 'lease-lost') {
      const reason = {
        code: 'CUTOVER_E_LEASE_LOST',
        message: `deployment ${record.id} lost the lock of ${record.app} and stopped while ${record.phase}; traffic was left as it was`,
      };
      const updated = await this.ctx.store.update(record.id, { reason }, { stopped: 'lease-lost' });
      this.message('error', reason.message);
      await this.ctx.store.audit({
        app: record.app,
        actor: record.requestedBy,
        action: 'deploy',
        target: record.release,
        outcome: 'failed',
        details: { deployment: record.id, reason },
      });
      return updated;
    }
    this.ctx.logger.info('deployment.stopped', { deployment: record.id, phase: record.phase });
    return record;
  }

  private settleWaiters(record: DeploymentRecord): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter.resolve(record);
  }

  private failWaiters(error: Error): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter.reject(error);
  }

  /** The run ended without reaching the final phase (shutdown, lost lease): tell who waits. */
  private async rejectWaiters(): Promise<void> {
    if (this.waiters.length === 0) return;
    let record: DeploymentRecord | undefined;
    try {
      record = await this.ctx.store.getDeployment(this.id);
    } catch (error) {
      return this.failWaiters(asCutoverError(error));
    }
    if (record && isTerminal(record.phase)) return this.settleWaiters(record);
    this.failWaiters(
      this.stopReason === 'lease-lost'
        ? new CutoverError('CUTOVER_E_LEASE_LOST', `deployment ${this.id} lost the app lock and stopped`)
        : new CutoverError(
            'CUTOVER_E_SHUTTING_DOWN',
            `the server stopped before deployment ${this.id} finished; it resumes at the next start`,
          ),
    );
  }

  /** The record as the store has it now, if it is still in `phase`. */
  private async assertStillIn(record: DeploymentRecord, phase: Phase): Promise<DeploymentRecord> {
    const now = await this.read();
    if (now.phase !== phase) {
      throw new CutoverError(
        'CUTOVER_E_PHASE_CHANGED',
        `deployment ${record.id} is ${now.phase}, no longer ${phase}`,
        { details: { deploymentId: record.id, expectedPhase: phase, phase: now.phase } },
      );
    }
    return now;
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

  /**
   * Waits at a manual gate. The gate exists before it is announced: a one-shot CLI stops
   * following at the announcement, and a `cutover promote` sent right then must find it.
   */
  private async waitForGate(signal: AbortSignal, announce: GateAnnouncement): Promise<void> {
    this.gate = new Gate();
    this.message(announce.level, announce.text);
    try {
      await this.gate.wait(signal);
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
        killGraceMs: this.ctx.config.hooks.killGrace,
      });
    } catch (error) {
      this.message('warn', asCutoverError(error).message);
    }
  }

  /**
   * Records the phase, from the one this step read (a record moved meanwhile, by an abort say,
   * fails with CUTOVER_E_PHASE_CHANGED and the loop goes on from the new phase), and tells the
   * event stream at once.
   */
  private async transition(record: DeploymentRecord, to: Phase, patch: DeploymentPatch = {}): Promise<void> {
    const next = await transitionDeployment(this.ctx.store, record.id, to, {
      expectedPhase: record.phase,
      patch,
    });
    this.ctx.logger.info('deployment.phase', { deployment: record.id, phase: to, release: record.release });
    this.announcePhase(next);
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

  /** A move of this run: named in its read-back events; a stop or a wake cuts its settle wait short. */
  private move(): MoveContext {
    return { deploymentId: this.id, signal: this.interrupt.signal };
  }
}

/** The steps of the configured strategy; the last one always puts 100% on the new slot. */
/** The line that tells an operator (and the one-shot CLI) that a run waits at a gate. */
interface GateAnnouncement {
  readonly level: 'info' | 'warn';
  readonly text: string;
}

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
  const analysis = failure.code === 'CUTOVER_E_ANALYSIS' ? failure.details.analysis : undefined;
  return {
    code: failure.code,
    message: failure.message,
    // Raised by analysisFailure() with the finding: kept whole in the record.
    ...(analysis === undefined ? {} : { analysis: analysis as AnalysisFinding }),
  };
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
