import type { AnalysisProviderConfig } from '../config/analysis.js';
import type { AnalysisProvider } from '../shared/analysis.js';
import type { AnalysisDeps, AnalysisDescriptor } from './descriptor.js';
import { ANALYSIS_DESCRIPTORS } from './descriptors.js';

/** One provider per `analysis.providers[]` entry, made by its kind's descriptor. */
export function createAnalysisProviders(
  configs: readonly AnalysisProviderConfig[],
  deps: AnalysisDeps,
): AnalysisProvider[] {
  return configs.map((config) => {
    // The union of every kind's entry: each descriptor gets the entry of its own kind.
    const descriptor = ANALYSIS_DESCRIPTORS[config.kind] as AnalysisDescriptor;
    return descriptor.create(config, deps);
  });
}
