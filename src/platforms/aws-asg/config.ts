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
/** replace-instances: how many releases' baked images are kept (rollback to an older one needs it). */
export const AWS_ASG_KEEP_IMAGES = 3;
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
      .enum(['replica-group', 'replace-instances', 'replica-stack'])
      .default('replica-group')
      .describe(
        'replica-group: a new Auto Scaling group per deploy, beside the live one; replace-instances: new instances in the one production group (`group`), behind the same load balancer; replica-stack: like replica-group, plus copies of `replicate` (its own load balancer, scaling policies and alarms)',
      ),
    replicate: replicateSettings
      .optional()
      .describe('Mode replica-stack: the stack (group, load balancer) each slot replicates'),
    ...AWS_CONNECTION_SETTINGS,
    image: imageConfig
      .optional()
      .describe('The image (AMI) each release runs (replica-group; replace-instances bakes its own)'),
    group: z
      .string()
      .min(1)
      .max(255)
      .optional()
      .describe(
        'replace-instances: the production Auto Scaling group; new instances launch from its launch template and join it',
      ),
    keepImages: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(AWS_ASG_KEEP_IMAGES)
      .describe('replace-instances: images baked for the last N releases stay; older ones are deregistered'),
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
  .superRefine((config, context) => {
    if ((config.mode === 'replica-stack') !== (config.replicate !== undefined)) {
      context.addIssue({
        code: 'custom',
        path: ['replicate'],
        message: '`replicate` goes with mode replica-stack, and mode replica-stack needs it',
      });
    }
    if (config.mode === 'replace-instances') {
      // The group's own launch template says where and from what its instances launch.
      if (config.group === undefined) {
        context.addIssue({
          code: 'custom',
          path: ['group'],
          message: 'mode replace-instances needs `group`: the production Auto Scaling group',
        });
      }
      return;
    }
    if (config.image === undefined) {
      context.addIssue({ code: 'custom', path: ['image'], message: `mode ${config.mode} needs \`image\`` });
    }
    if ((config.subnets === undefined) === (config.availabilityZones === undefined)) {
      context.addIssue({
        code: 'custom',
        path: ['subnets'],
        message: 'set exactly one of `subnets` (VPC subnet ids) or `availabilityZones`',
      });
    }
  });

export type AwsAsgPlatformConfig = z.infer<typeof awsAsgPlatformConfig>;
