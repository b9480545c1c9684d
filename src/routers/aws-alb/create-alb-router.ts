import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { withCallTimeout } from '../../aws/aws-call.js';
import { callTimeoutOptions } from '../../aws/call-timeout.js';
import { awsClientConfig } from '../../aws/connection.js';
import { resolveTargetGroupArn, targetGroupAttachment } from '../../aws/target-group-attachment.js';
import { DEFAULTS } from '../../config/defaults.js';
import type { RouterDeps } from '../descriptor.js';
import { AlbRouter } from './alb-router.js';
import { listenerOfRule, type AwsAlbRouterConfig } from './config.js';
import { describeListener, listenerSite, ruleSite } from './forward-site.js';

/** The aws-alb router over its own AWS clients, made when open() connects. */
export function createAlbRouter(
  config: AwsAlbRouterConfig,
  deps: Pick<RouterDeps, 'logger' | 'previewToken'>,
): AlbRouter {
  return new AlbRouter({
    region: config.region,
    settleTimeoutMs: config.settleTimeout,
    stickySeconds: config.stickiness === undefined ? undefined : config.stickiness / 1000,
    preview: { header: DEFAULTS.previewHeader, token: deps.previewToken, priority: config.previewPriority },
    logger: deps.logger,
    connect: async () => {
      const clientConfig = { ...awsClientConfig(config), ...callTimeoutOptions(config.callTimeout) };
      const autoScaling = withCallTimeout(new AutoScalingClient(clientConfig), config.callTimeout);
      const elbv2 = withCallTimeout(new ElasticLoadBalancingV2Client(clientConfig), config.callTimeout);
      const close = (): void => {
        autoScaling.destroy();
        elbv2.destroy();
      };
      try {
        const site =
          config.ruleArn === undefined
            ? listenerSite(elbv2, config.listenerArn ?? '')
            : ruleSite(elbv2, config.ruleArn, listenerOfRule(config.ruleArn));
        // Fails now, with the ARN in the message, when the listener or rule does not exist.
        await describeListener(elbv2, site.listenerArn);
        await site.actions();
        const targetGroups = {
          blue: await resolveTargetGroupArn(elbv2, config.targetGroups.blue),
          green: await resolveTargetGroupArn(elbv2, config.targetGroups.green),
        };
        return {
          autoScaling,
          elbv2,
          site,
          targetGroups,
          attachments: {
            blue: targetGroupAttachment({ autoScaling, elbv2 }, targetGroups.blue),
            green: targetGroupAttachment({ autoScaling, elbv2 }, targetGroups.green),
          },
          close,
        };
      } catch (error) {
        close();
        throw error;
      }
    },
  });
}
