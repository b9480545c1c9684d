import { AUTO_SCALING_GROUP_ENDPOINT } from '../../aws/group-endpoint.js';
import type { RouterCapabilities } from '../../shared/router.js';

/** What the aws-elb router can do; config validation reads this before anything is opened. */
export const AWS_ELB_CAPABILITIES = {
  // Attaching a group is not one instant: both groups are registered for a while.
  atomic: false,
  // A Classic ELB spreads requests over its instances, not over groups by weight.
  weighted: false,
  preview: 'none',
  mirror: false,
  // verify() reads the group attachments and DescribeInstanceHealth back.
  verifiable: true,
  // AWS reports no in-flight count per target; drain() waits the connection-draining timeout.
  drainCounts: false,
  endpointKinds: [AUTO_SCALING_GROUP_ENDPOINT],
} as const satisfies RouterCapabilities;
