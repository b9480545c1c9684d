import { definePlatform } from '../descriptor.js';
import { AWS_ASG_ENDPOINT_KIND, createAwsAsgPlatform } from './aws-asg-platform.js';
import { awsAsgPlatformConfig } from './config.js';

/** EC2 instances in Auto Scaling groups; each slot is a group routers attach by name. */
export const awsAsgPlatform = definePlatform({
  kind: 'aws-asg',
  configSchema: awsAsgPlatformConfig,
  capabilities: { endpointKind: AWS_ASG_ENDPOINT_KIND },
  create: (config, deps) => createAwsAsgPlatform(config, { app: deps.app, logger: deps.logger }),
});
