import { AUTO_SCALING_GROUP_ENDPOINT } from '../../aws/group-endpoint.js';
import type { RouterCapabilities } from '../../shared/router.js';

/** What the aws-alb router can do; config validation reads this before anything is opened. */
export const AWS_ALB_CAPABILITIES = {
  // One ModifyListener / ModifyRule replaces the whole forward action at once.
  atomic: true,
  // A forward action weighs its target groups (0–999 on AWS; cutover writes its percents).
  weighted: true,
  // A listener rule matching the preview header (with the app's token) forwards to the idle group.
  preview: 'header',
  mirror: false,
  // verify() reads the forward action back (DescribeListeners / DescribeRules) and the targets' health.
  verifiable: true,
  // AWS reports no in-flight count per target group; drain() waits the deregistration delay.
  drainCounts: false,
  endpointKinds: [AUTO_SCALING_GROUP_ENDPOINT],
} as const satisfies RouterCapabilities;
