import { defineRouter } from '../descriptor.js';
import { AWS_TARGET_GROUP_CAPABILITIES } from './capabilities.js';
import { awsTargetGroupRouterConfig } from './config.js';

export const awsTargetGroupRouter = defineRouter({
  kind: 'aws-target-group',
  configSchema: awsTargetGroupRouterConfig,
  capabilities: AWS_TARGET_GROUP_CAPABILITIES,
  limits: {
    atomic:
      'attaching an Auto Scaling group to a target group is not one instant; both groups serve for a moment',
    weighted:
      'a target group spreads requests per target, not per group; use a weighted ALB listener rule instead',
    preview: 'a target group has no idle-only route; smoke-test the idle group’s instances directly',
    drainCounts: 'AWS reports no in-flight count per target; drain waits the deregistration delay',
  },
  create: async (config, deps) => {
    const { createTargetGroupRouter } = await import('./create-target-group-router.js');
    return { router: createTargetGroupRouter(config, deps) };
  },
});
