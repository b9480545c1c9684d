import { definePlatform } from '../descriptor.js';
import { awsAsgPlatformConfig } from './config.js';
import { AWS_ASG_ENDPOINT_KIND } from './endpoint-kind.js';

/** EC2 instances in Auto Scaling groups; each slot is a group routers attach by name. */
export const awsAsgPlatform = definePlatform({
  kind: 'aws-asg',
  configSchema: awsAsgPlatformConfig,
  capabilities: { endpointKind: AWS_ASG_ENDPOINT_KIND },
  create: async (config, deps) => {
    const { createAwsAsgPlatform } = await import('./aws-asg-platform.js');
    return createAwsAsgPlatform(config, { app: deps.app, logger: deps.logger });
  },
});
