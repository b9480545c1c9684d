/**
 * The shadow verdict over one window, from the comparison counts at its start and now:
 * 1. the counts went down (the server restarted, its sums started over) → inconclusive;
 * 2. fewer than `minCompared` pairs compared → inconclusive (measure `compared pairs`);
 * 3. the share of compared pairs that differ above `maxDifferenceRate` → fail (measure
 *    `difference rate`);
 * 4. otherwise pass.
 * Dropped copies (the cap, a slow or failing shadow) are reported, never judged: a slow idle
 * slot is the builtin analysis's business once it takes traffic.
 */
import type { ShadowCounts } from '../../proxy/shadow/shadow-sample.js';
import type { AnalysisFinding } from '../../shared/analysis.js';
import type { Slot } from '../../shared/slot.js';
import { formatPercent } from '../builtin/percent.js';
import type { ShadowAnalysisConfig } from './config.js';

export function differenceVerdict(
  provider: string,
  slot: Slot,
  start: ShadowCounts,
  now: ShadowCounts,
  config: Pick<ShadowAnalysisConfig, 'minCompared' | 'maxDifferenceRate'>,
): AnalysisFinding {
  const compared = now.compared - start.compared;
  const differing = now.differing - start.differing;
  const dropped = now.dropped - start.dropped;
  const threshold = formatPercent(config.maxDifferenceRate);
  if (compared < 0 || differing < 0 || dropped < 0) {
    return {
      verdict: 'inconclusive',
      provider,
      measure: 'compared pairs',
      observed: null,
      threshold: config.minCompared,
      reason:
        'the comparison counts were reset during the window (the server restarted): nothing is known of it',
    };
  }
  const seen = `${compared} mirrored requests compared on ${slot}, ${differing} differing, ${dropped} dropped`;
  if (compared < config.minCompared) {
    return {
      verdict: 'inconclusive',
      provider,
      measure: 'compared pairs',
      observed: compared,
      threshold: config.minCompared,
      reason: `${seen}: fewer than minCompared ${config.minCompared}`,
    };
  }
  const rate = differing / compared;
  const fails = rate > config.maxDifferenceRate;
  return {
    verdict: fails ? 'fail' : 'pass',
    provider,
    measure: 'difference rate',
    observed: formatPercent(rate),
    threshold,
    reason: fails ? `${seen}: ${slot} answers differently from the live slot (see \`cutover diff\`)` : seen,
  };
}
