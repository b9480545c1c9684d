import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { withCallTimeout } from '../../aws/aws-call.js';
import { callTimeoutOptions } from '../../aws/call-timeout.js';
import { awsClientConfig } from '../../aws/connection.js';
import { GroupAttachmentRouter } from '../../aws/group-attachment-router.js';
import { resolveTargetGroupArn, targetGroupAttachment } from '../../aws/target-group-attachment.js';
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
  create: (config, deps) => ({
    router: new GroupAttachmentRouter({
      kind: 'aws-target-group',
      capabilities: AWS_TARGET_GROUP_CAPABILITIES,
      region: config.region,
      settleTimeoutMs: config.settleTimeout,
      logger: deps.logger,
      connect: async () => {
        const clientConfig = { ...awsClientConfig(config), ...callTimeoutOptions(config.callTimeout) };
        const autoScaling = withCallTimeout(new AutoScalingClient(clientConfig), config.callTimeout);
        const elbv2 = withCallTimeout(new ElasticLoadBalancingV2Client(clientConfig), config.callTimeout);
        // Reads instance tags when the slots share one group (aws-asg mode replace-instances).
        const ec2 = withCallTimeout(new EC2Client(clientConfig), config.callTimeout);
        const close = (): void => {
          autoScaling.destroy();
          ec2.destroy();
          elbv2.destroy();
        };
        try {
          const arn = await resolveTargetGroupArn(elbv2, config.targetGroup);
          return {
            balancer: targetGroupAttachment({ autoScaling, elbv2 }, arn),
            autoScaling,
            ec2,
            reportsDraining: true,
            close,
          };
        } catch (error) {
          close();
          throw error;
        }
      },
    }),
  }),
});
