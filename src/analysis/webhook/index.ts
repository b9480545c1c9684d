import { defineAnalysis } from '../descriptor.js';
import { webhookAnalysisConfig } from './config.js';

export const webhookAnalysis = defineAnalysis({
  kind: 'webhook',
  configSchema: webhookAnalysisConfig,
  create: async (config, deps) => {
    const { WebhookAnalysisProvider } = await import('./webhook-provider.js');
    return new WebhookAnalysisProvider(config, deps.baseDir ?? process.cwd());
  },
});
