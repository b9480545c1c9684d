/**
 * The list of analysis providers: one line per folder. The `analysis.providers[]` part of the
 * config schema (and so the JSON Schema) and the factory registry are read from here.
 */
import { builtinAnalysis } from './builtin/index.js';
import { cloudwatchAlarmsAnalysis } from './cloudwatch-alarms/index.js';
import type { AnalysisDescriptor } from './descriptor.js';
import { prometheusAnalysis } from './prometheus/index.js';
import { webhookAnalysis } from './webhook/index.js';

/** Each key must be its descriptor's kind: a typo fails to compile. */
function defineProviders<T extends { [K in keyof T]: AnalysisDescriptor<K & string> }>(providers: T): T {
  return providers;
}

export const ANALYSIS_DESCRIPTORS = defineProviders({
  'cloudwatch-alarms': cloudwatchAlarmsAnalysis,
  builtin: builtinAnalysis,
  prometheus: prometheusAnalysis,
  webhook: webhookAnalysis,
});

type Descriptors = typeof ANALYSIS_DESCRIPTORS;
export type AnalysisKind = keyof Descriptors;
type ProviderConfigSchema = Descriptors[AnalysisKind]['configSchema'];

/** The options of the `analysis.providers[]` discriminated union, in the order of the list above. */
export const ANALYSIS_CONFIG_SCHEMAS = Object.values(ANALYSIS_DESCRIPTORS).map(
  (descriptor) => descriptor.configSchema,
) as [ProviderConfigSchema, ...ProviderConfigSchema[]];
