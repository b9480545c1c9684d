import { defineAnalysis } from '../descriptor.js';
import { builtinAnalysisConfig } from './config.js';

export const builtinAnalysis = defineAnalysis({
  kind: 'builtin',
  configSchema: builtinAnalysisConfig,
  create: async (config, deps) => {
    const { BuiltinAnalysisProvider } = await import('./builtin-provider.js');
    return new BuiltinAnalysisProvider(config, deps.slotTraffic);
  },
});
