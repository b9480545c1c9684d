import { defineRouter } from '../descriptor.js';
import { AWS_ALB_CAPABILITIES } from './capabilities.js';
import { awsAlbRouterConfig } from './config.js';

export const awsAlbRouter = defineRouter({
  kind: 'aws-alb',
  configSchema: awsAlbRouterConfig,
  capabilities: AWS_ALB_CAPABILITIES,
  limits: {
    mirror: 'an ALB cannot copy requests to a second target group',
    drainCounts: 'AWS reports no in-flight count per target group; drain waits the deregistration delay',
  },
  create: async (config, deps) => {
    const { createAlbRouter } = await import('./create-alb-router.js');
    return { router: createAlbRouter(config, deps) };
  },
});
