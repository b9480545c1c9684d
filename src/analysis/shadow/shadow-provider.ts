import type { ShadowCounts, ShadowReadings } from '../../proxy/shadow/shadow-sample.js';
import type { AnalysisFinding, AnalysisProvider, AnalysisRequest } from '../../shared/analysis.js';
import { CutoverError } from '../../shared/errors.js';
import type { ShadowAnalysisConfig } from './config.js';
import { differenceVerdict } from './difference-verdict.js';

/** Reads the comparison counts at the window's first check; each later check judges from there. */
export class ShadowAnalysisProvider implements AnalysisProvider {
  readonly name: string;
  private readonly starts = new Map<string, ShadowCounts>();

  constructor(
    private readonly config: ShadowAnalysisConfig,
    private readonly readings: ShadowReadings | undefined,
  ) {
    this.name = config.name ?? 'shadow';
  }

  check(request: AnalysisRequest): Promise<AnalysisFinding> {
    if (this.readings === undefined) {
      return Promise.reject(
        new CutoverError(
          'CUTOVER_E_ANALYSIS_PROVIDER',
          'the shadow analysis reads the builtin proxy’s comparisons, and the router is not the builtin one',
        ),
      );
    }
    const now = this.readings.counts()[request.newSlot];
    const key = `${request.deploymentId} ${request.window.start}`;
    const start = this.starts.get(key);
    if (start === undefined) {
      this.starts.set(key, now);
      return Promise.resolve({
        verdict: 'inconclusive',
        provider: this.name,
        measure: 'compared pairs',
        observed: 0,
        threshold: this.config.minCompared,
        reason: 'the window starts: the comparison counts are read now, the next checks judge from here',
      });
    }
    return Promise.resolve(differenceVerdict(this.name, request.newSlot, start, now, this.config));
  }
}
