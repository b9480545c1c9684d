import type { AnalysisProviderConfig } from '../config/analysis.js';
import type { AnalysisProvider } from '../shared/analysis.js';
import type { AnalysisDeps, AnalysisDescriptor } from './descriptor.js';
import { ANALYSIS_DESCRIPTORS } from './descriptors.js';

/**
 * One provider per `analysis.providers[]` entry, made by its kind's descriptor, in order. Async:
 * a descriptor imports its implementation (an SDK) only now, not when the CLI starts.
 */
export async function createAnalysisProviders(
  configs: readonly AnalysisProviderConfig[],
  deps: AnalysisDeps,
): Promise<AnalysisProvider[]> {
  const providers: AnalysisProvider[] = [];
  for (const config of configs) {
    // The union of every kind's entry: each descriptor gets the entry of its own kind.
    const descriptor = ANALYSIS_DESCRIPTORS[config.kind] as AnalysisDescriptor;
    providers.push(await descriptor.create(config, deps));
  }
  return providers;
}
