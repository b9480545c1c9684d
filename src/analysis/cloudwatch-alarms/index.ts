import { defineAnalysis } from '../descriptor.js';
import { cloudwatchAlarmsConfig } from './config.js';

export const cloudwatchAlarmsAnalysis = defineAnalysis({
  kind: 'cloudwatch-alarms',
  configSchema: cloudwatchAlarmsConfig,
  create: async (config) => {
    const { CloudwatchAlarmsProvider } = await import('./cloudwatch-alarms-provider.js');
    return new CloudwatchAlarmsProvider(config);
  },
});
