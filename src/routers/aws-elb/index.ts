import { defineRouter } from '../descriptor.js';
import { AWS_ELB_CAPABILITIES } from './capabilities.js';
import { awsElbRouterConfig } from './config.js';

export const awsElbRouter = defineRouter({
  kind: 'aws-elb',
  configSchema: awsElbRouterConfig,
  capabilities: AWS_ELB_CAPABILITIES,
  limits: {
    atomic:
      'attaching an Auto Scaling group to a Classic ELB is not one instant; both groups serve for a moment',
    weighted: 'a Classic ELB spreads requests per instance, not per group',
    preview: 'a Classic ELB has no idle-only route; smoke-test the idle group’s instances directly',
    drainCounts: 'AWS reports no in-flight count per instance; drain waits the connection-draining timeout',
  },
  create: async (config, deps) => {
    const { createElbRouter } = await import('./create-elb-router.js');
    return { router: createElbRouter(config, deps) };
  },
});
