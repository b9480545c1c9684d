/**
 * Asks the analysis providers about a deployment, at the configured interval, for as long as a
 * shift step pauses or the bake period lasts. A `fail` ends the watch at once (the run then
 * aborts the shift or rolls back, through the journaled unwind); a provider that cannot answer
 * counts as `inconclusive`, never as `fail`. Every answer goes to the event stream.
 */
import { createAnalysisProviders } from '../analysis/create-providers.js';
import type { AnalysisConfig } from '../config/analysis.js';
import {
  describeFinding,
  type AnalysisFinding,
  type AnalysisProvider,
  type AnalysisRequest,
  type AnalysisStage,
} from '../shared/analysis.js';
import { CutoverError, asCutoverError } from '../shared/errors.js';
import type { DeploymentRecord } from '../shared/store.js';
import type { EngineContext } from './engine-context.js';
import { sleep, waitOrAbort } from './gate.js';

/** How a watch ended: the first failed finding, or the findings of its last round. */
export type WatchOutcome =
  | { readonly kind: 'failed'; readonly finding: AnalysisFinding }
  | { readonly kind: 'done'; readonly findings: readonly AnalysisFinding[] };

export interface WatchScope {
  readonly stage: AnalysisStage;
  readonly step?: number;
  /** Where the judged window starts (epoch ms): the step's or the bake's start. */
  readonly startMs: number;
  /** When the watch ends (epoch ms); Infinity: until `signal` aborts (a manual gate). */
  readonly untilMs: number;
  readonly signal: AbortSignal;
}

export class AnalysisWatch {
  /** A watch that asks the providers of `analysis.providers[]`. */
  static async create(ctx: EngineContext, config: AnalysisConfig): Promise<AnalysisWatch> {
    const providers = await createAnalysisProviders(config.providers, {
      logger: ctx.logger,
      baseDir: ctx.config.baseDir,
      ...(ctx.slotTraffic === undefined ? {} : { slotTraffic: ctx.slotTraffic }),
    });
    return new AnalysisWatch(ctx, config, providers);
  }

  /** `providers`: who is asked. */
  constructor(
    private readonly ctx: EngineContext,
    private readonly config: AnalysisConfig,
    private readonly providers: readonly AnalysisProvider[],
  ) {}

  /**
   * Rounds of checks until `untilMs` (a last round at the end), or the first failed finding.
   * Rejects with the signal's reason when it aborts (a stop, a wake, a gate opened).
   */
  async watch(record: DeploymentRecord, scope: WatchScope): Promise<WatchOutcome> {
    for (;;) {
      const findings = await this.round(record, scope);
      const failed = findings.find((finding) => finding.verdict === 'fail');
      if (failed) return { kind: 'failed', finding: failed };
      const left = scope.untilMs - this.ctx.now().getTime();
      if (left <= 0) return { kind: 'done', findings };
      await sleep(Math.min(this.config.interval, left), scope.signal);
    }
  }

  close(): void {
    for (const provider of this.providers) provider.close?.();
  }

  /** Every provider once, side by side; each answer is announced. */
  private async round(record: DeploymentRecord, scope: WatchScope): Promise<AnalysisFinding[]> {
    if (scope.signal.aborted) throw scope.signal.reason as Error;
    const request: AnalysisRequest = {
      deploymentId: record.id,
      app: record.app,
      release: record.release,
      newSlot: record.toSlot,
      oldSlot: record.fromSlot,
      oldRelease: record.fromRelease,
      stage: scope.stage,
      ...(scope.step === undefined ? {} : { step: scope.step }),
      window: {
        start: new Date(scope.startMs).toISOString(),
        end: this.ctx.now().toISOString(),
      },
      signal: scope.signal,
    };
    const findings = await Promise.all(this.providers.map((provider) => this.ask(provider, request)));
    if (scope.signal.aborted) throw scope.signal.reason as Error;
    for (const finding of findings) {
      this.ctx.events.emit({
        type: 'analysis',
        deploymentId: record.id,
        at: this.ctx.now().toISOString(),
        stage: scope.stage,
        ...(scope.step === undefined ? {} : { step: scope.step }),
        finding,
      });
      // A pass every interval is routine: kept out of the default log level.
      this.ctx.logger[finding.verdict === 'pass' ? 'debug' : 'warn']('analysis.verdict', {
        deployment: record.id,
        stage: scope.stage,
        ...finding,
      });
    }
    return findings;
  }

  private async ask(provider: AnalysisProvider, request: AnalysisRequest): Promise<AnalysisFinding> {
    try {
      // A provider that ignores the signal does not hold a stop or a rollback back.
      return await waitOrAbort(provider.check(request), request.signal);
    } catch (error) {
      if (request.signal.aborted) throw error;
      const failure = asCutoverError(error, 'CUTOVER_E_ANALYSIS_PROVIDER');
      return {
        verdict: 'inconclusive',
        provider: provider.name,
        measure: 'provider error',
        observed: failure.code,
        threshold: null,
        reason: `${provider.name} could not answer: ${failure.message}`,
      };
    }
  }
}

/** The error a failed verdict during a shift step raises: the run aborts with it as the reason. */
export function analysisFailure(finding: AnalysisFinding, where: string): CutoverError {
  return new CutoverError('CUTOVER_E_ANALYSIS', `analysis failed ${where}: ${describeFinding(finding)}`, {
    details: { analysis: finding },
  });
}
