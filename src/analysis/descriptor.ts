/**
 * What each analysis provider folder exports from its index.ts: its kind, the zod schema of its
 * `analysis.providers[]` entry, and its factory. The `analysis:` part of the config schema (and
 * so the JSON Schema) is assembled from the list in descriptors.ts: adding a provider is adding
 * a folder and one line there.
 */
import type { z } from 'zod';
import type { AnalysisProvider } from '../shared/analysis.js';
import type { Logger } from '../shared/logger.js';
import type { SlotTrafficSource } from '../shared/slot-traffic.js';
import type { ShadowReadings } from '../proxy/shadow/shadow-sample.js';

/** What a provider factory gets besides its own entry: never the whole app config. */
export interface AnalysisDeps {
  readonly logger: Logger;
  /**
   * The router's per-slot traffic counters (the builtin proxy's, summed over its workers, or
   * HAProxy's); absent when the router keeps none.
   */
  readonly slotTraffic?: SlotTrafficSource;
  /** Where a provider's relative file paths (a token file, a signing key) are resolved: the config file's folder. */
  readonly baseDir?: string;
  /** The builtin proxy's shadow comparisons (router.mirror.compare); absent for other routers. */
  readonly shadow?: ShadowReadings;
}

export interface AnalysisDescriptor<K extends string = string, S extends z.ZodType = z.ZodType> {
  readonly kind: K;
  /** The schema of one `analysis.providers[]` entry of this kind (with `kind` and `name`). */
  readonly configSchema: S;
  /**
   * Loads the implementation (a dynamic import) and makes the provider: this file and the schema
   * stay free of SDKs, so a CLI verb that only reads the config starts fast.
   */
  create(config: z.output<S>, deps: AnalysisDeps): Promise<AnalysisProvider>;
}

export function defineAnalysis<K extends string, S extends z.ZodType>(
  descriptor: AnalysisDescriptor<K, S>,
): AnalysisDescriptor<K, S> {
  return descriptor;
}
