import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingClient } from '@aws-sdk/client-elastic-load-balancing';
import { classicElbAttachment, requireClassicElb } from '../../aws/classic-elb-attachment.js';
import { withCallTimeout } from '../../aws/aws-call.js';
import { callTimeoutOptions } from '../../aws/call-timeout.js';
import { awsClientConfig } from '../../aws/connection.js';
import { GroupAttachmentRouter } from '../../aws/group-attachment-router.js';
import type { RouterDeps } from '../descriptor.js';
import { AWS_ELB_CAPABILITIES } from './capabilities.js';
import type { AwsElbRouterConfig } from './config.js';

/** The aws-elb router: Auto Scaling groups attached to a Classic ELB, over clients made when open() connects. */
export function createElbRouter(
  config: AwsElbRouterConfig,
  deps: Pick<RouterDeps, 'logger'>,
): GroupAttachmentRouter {
  return new GroupAttachmentRouter({
    kind: 'aws-elb',
    capabilities: AWS_ELB_CAPABILITIES,
    region: config.region,
    settleTimeoutMs: config.settleTimeout,
    logger: deps.logger,
    connect: async () => {
      const clientConfig = { ...awsClientConfig(config), ...callTimeoutOptions(config.callTimeout) };
      const autoScaling = withCallTimeout(new AutoScalingClient(clientConfig), config.callTimeout);
      const elb = withCallTimeout(new ElasticLoadBalancingClient(clientConfig), config.callTimeout);
      // Reads instance tags when the slots share one group (aws-asg mode replace-instances).
      const ec2 = withCallTimeout(new EC2Client(clientConfig), config.callTimeout);
      const close = (): void => {
        autoScaling.destroy();
        ec2.destroy();
        elb.destroy();
      };
      try {
        await requireClassicElb(elb, config.loadBalancer);
        return {
          balancer: classicElbAttachment({ autoScaling, elb }, config.loadBalancer),
          autoScaling,
          ec2,
          // DescribeInstanceHealth does not list an instance once it is deregistered.
          reportsDraining: false,
          close,
        };
      } catch (error) {
        close();
        throw error;
      }
    },
  });
}
