import type { AnalysisProviderConfig } from '../config/analysis.js';
import type { AnalysisProvider } from '../shared/analysis.js';
import type { AnalysisDeps } from './descriptor.js';
import { ANALYSIS_DESCRIPTORS } from './descriptors.js';

/** One provider per `analysis.providers[]` entry, made by its kind's descriptor. */
export function createAnalysisProviders(
  configs: readonly AnalysisProviderConfig[],
  deps: AnalysisDeps,
): AnalysisProvider[] {
  return configs.map((config) => {
    const descriptor = ANALYSIS_DESCRIPTORS[config.kind];
    return descriptor.create(config, deps);
  });
}
