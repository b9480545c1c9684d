import { AUTO_SCALING_GROUP_ENDPOINT } from '../../aws/group-endpoint.js';
import type { RouterCapabilities } from '../../shared/router.js';

/** What the aws-target-group router can do; config validation reads this before anything is opened. */
export const AWS_TARGET_GROUP_CAPABILITIES = {
  // Attaching a group is not one instant: both groups are registered for a while.
  atomic: false,
  // A target group spreads requests over its targets, not over groups by weight.
  weighted: false,
  preview: 'none',
  mirror: false,
  // verify() reads the group attachments and DescribeTargetHealth back.
  verifiable: true,
  // AWS reports no in-flight count per target; drain() waits the deregistration delay.
  drainCounts: false,
  endpointKinds: [AUTO_SCALING_GROUP_ENDPOINT],
} as const satisfies RouterCapabilities;
