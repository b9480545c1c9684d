import { z } from 'zod';
import { AWS_CONNECTION_SETTINGS } from '../../aws/connection.js';
import { duration } from '../../config/fields.js';
import { DEFAULTS } from '../../config/defaults.js';
import { PLATFORM_SETTINGS } from '../descriptor.js';
import { replicateSettings } from './replica-stack-config.js';

/** How long provision() waits for every instance of a new group to be InService and Healthy. */
export const AWS_ASG_READY_TIMEOUT_MS = 10 * 60_000;
/** Time between two reads of a group while cutover waits for it. */
export const AWS_ASG_POLL_INTERVAL_MS = 5_000;
/** The Auto Scaling limit on MaxSize is per account; this keeps a typo from asking for thousands. */
const MAX_INSTANCES = 1_000;

const amiId = z.string().regex(/^ami-[0-9a-f]{8,17}$/, 'an image id such as ami-0abc1234');

/**
 * Which image each release runs: an image id with ${RELEASE} (`ami-${RELEASE}` when releases are
 * image ids), `{ name }` — the newest image the account owns with that name (`shop-${RELEASE}`) —
 * or `{ byRelease }`, a fixed map.
 */
const imageConfig = z.union([
  z
    .string()
    .regex(/^ami-/, 'an image id (ami-…) that may hold ${RELEASE}')
    .describe('An image id; ${RELEASE} is replaced by the release'),
  z
    .object({
      name: z
        .string()
        .min(1)
        .describe('The name of an image the account owns; ${RELEASE} is replaced; the newest wins'),
    })
    .strict(),
  z.object({ byRelease: z.record(z.string().min(1), amiId).describe('release → image id') }).strict(),
]);

/**
 * `platform:` with `kind: aws-asg`. Mode `replica-group`: each deploy creates an Auto Scaling
 * group for the idle slot from a launch template of its own; the routers (aws-elb,
 * aws-target-group) attach the live group to the load balancer.
 */
export const awsAsgPlatformConfig = z
  .object({
    kind: z.literal('aws-asg'),
    mode: z
      .enum(['replica-group', 'replica-stack'])
      .default('replica-group')
      .describe(
        'replica-group: a new Auto Scaling group per deploy, beside the live one; replica-stack: the same, plus copies of `replicate` (its own load balancer, scaling policies and alarms)',
      ),
    replicate: replicateSettings
      .optional()
      .describe('Mode replica-stack: the stack (group, load balancer) each slot replicates'),
    ...AWS_CONNECTION_SETTINGS,
    image: imageConfig.describe('The image (AMI) each release runs'),
    instanceType: z.string().min(1).default('t3.micro').describe('The EC2 instance type of new instances'),
    userData: z
      .string()
      .optional()
      .describe(
        'User data of new instances (a cloud-init script …); ${RELEASE} and ${SLOT} are replaced. It installs the release at boot',
      ),
    subnets: z
      .array(z.string().regex(/^subnet-[0-9a-f]+$/, 'a subnet id such as subnet-0abc1234'))
      .min(1)
      .optional()
      .describe('The VPC subnets the groups launch into (or availabilityZones)'),
    availabilityZones: z
      .array(z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+[a-z]$/, 'an availability zone such as us-east-1a'))
      .min(1)
      .optional()
      .describe('The zones the groups launch into, in the default VPC (or subnets)'),
    securityGroups: z
      .array(z.string().regex(/^sg-[0-9a-f]+$/, 'a security group id such as sg-0abc1234'))
      .default([])
      .describe('Security groups of new instances'),
    keyName: z.string().min(1).optional().describe('An EC2 key pair name for new instances'),
    instanceProfile: z
      .string()
      .min(1)
      .optional()
      .describe('The IAM instance profile (name or ARN) of new instances'),
    port: z
      .number()
      .int()
      .min(1)
      .max(65535)
      .default(80)
      .describe('The port the app listens on on each instance (health targets)'),
    instances: z
      .number()
      .int()
      .min(1)
      .max(MAX_INSTANCES)
      .default(DEFAULTS.instances)
      .describe("Instances of the first group; later groups copy the live group's capacity"),
    readyTimeout: duration()
      .default(AWS_ASG_READY_TIMEOUT_MS)
      .describe("How long a new group's instances have to be InService and Healthy"),
    pollInterval: duration()
      .default(AWS_ASG_POLL_INTERVAL_MS)
      .describe('Time between two reads of a group while cutover waits for it'),
    ...PLATFORM_SETTINGS,
  })
  .strict()
  .refine((config) => (config.subnets === undefined) !== (config.availabilityZones === undefined), {
    message: 'set exactly one of `subnets` (VPC subnet ids) or `availabilityZones`',
    path: ['subnets'],
  })
  .refine((config) => (config.mode === 'replica-stack') === (config.replicate !== undefined), {
    message: '`replicate` goes with mode replica-stack, and mode replica-stack needs it',
    path: ['replicate'],
  });

export type AwsAsgPlatformConfig = z.infer<typeof awsAsgPlatformConfig>;
