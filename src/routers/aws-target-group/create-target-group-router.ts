import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { withCallTimeout } from '../../aws/aws-call.js';
import { callTimeoutOptions } from '../../aws/call-timeout.js';
import { awsClientConfig } from '../../aws/connection.js';
import { GroupAttachmentRouter } from '../../aws/group-attachment-router.js';
import { resolveTargetGroupArn, targetGroupAttachment } from '../../aws/target-group-attachment.js';
import type { RouterDeps } from '../descriptor.js';
import { AWS_TARGET_GROUP_CAPABILITIES } from './capabilities.js';
import type { AwsTargetGroupRouterConfig } from './config.js';

/** The aws-target-group router: Auto Scaling groups attached to a target group, over clients made when open() connects. */
export function createTargetGroupRouter(
  config: AwsTargetGroupRouterConfig,
  deps: Pick<RouterDeps, 'logger'>,
): GroupAttachmentRouter {
  return new GroupAttachmentRouter({
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
  });
}
