import { defineAnalysis } from '../descriptor.js';
import { prometheusAnalysisConfig } from './config.js';

export const prometheusAnalysis = defineAnalysis({
  kind: 'prometheus',
  configSchema: prometheusAnalysisConfig,
  create: async (config, deps) => {
    const { PrometheusAnalysisProvider } = await import('./prometheus-provider.js');
    return new PrometheusAnalysisProvider(config, deps.baseDir ?? process.cwd());
  },
});
