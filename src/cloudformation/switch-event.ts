/**
 * The CloudFormation custom resource request for `Custom::CutoverSwitch`, validated at the edge:
 * whatever arrives (missing keys, wrong types, megabytes of text) becomes either a valid request
 * or a reason that goes into a FAILED response — never a throw out of the handler.
 */
import { z } from 'zod';

/** CloudFormation's own limits on what it sends: ids and names are short. */
const MAX_ID = 2048;
const text = (max = MAX_ID) => z.string().min(1).max(max);

/** The envelope every custom resource request carries, needed to answer at all. */
export const requestEnvelope = z.object({
  RequestType: z.enum(['Create', 'Update', 'Delete']),
  ResponseURL: text(8192)
    .url()
    .refine((url) => /^https?:\/\//i.test(url), 'an http(s) URL'),
  StackId: text(),
  RequestId: text(),
  LogicalResourceId: text(),
  PhysicalResourceId: text().optional(),
});
export type RequestEnvelope = z.infer<typeof requestEnvelope>;

const GROUP_NAME = /^[\x20-\x7e]{1,255}$/;
const LOAD_BALANCER_NAME = /^(?!-)[A-Za-z0-9-]{1,32}(?<!-)$/;
const TARGET_GROUP_ARN =
  /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:targetgroup\/[A-Za-z0-9-]{1,32}\/[0-9a-f]+$/;

/**
 * The resource's properties. CloudFormation passes every scalar as a string; booleans are
 * `"true"`/`"false"`. Exactly one of LoadBalancerName and TargetGroupArn.
 */
export const switchProperties = z
  .object({
    ServiceToken: text().optional(),
    AutoScalingGroupName: z
      .string()
      .regex(GROUP_NAME, 'an Auto Scaling group name (1–255 printable characters)'),
    LoadBalancerName: z
      .string()
      .regex(LOAD_BALANCER_NAME, 'a Classic ELB name (up to 32 letters, digits and hyphens)')
      .optional(),
    TargetGroupArn: z.string().regex(TARGET_GROUP_ARN, 'a target group ARN').optional(),
    /** Delete detaches the group only when this is "true"; by default Delete leaves traffic alone. */
    DetachOnDelete: z.enum(['true', 'false']).default('false'),
  })
  .strict()
  .refine(
    (properties) => (properties.LoadBalancerName === undefined) !== (properties.TargetGroupArn === undefined),
    {
      message: 'give exactly one of LoadBalancerName and TargetGroupArn',
    },
  );
export type SwitchProperties = z.infer<typeof switchProperties>;

/** The balancer the properties name, as one string for the physical resource id. */
export function balancerId(properties: SwitchProperties): string {
  return properties.TargetGroupArn ?? `elb/${properties.LoadBalancerName ?? ''}`;
}

/** zod's issues as one line: `AutoScalingGroupName: Required; …`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.join('.') || '(event)'}: ${issue.message}`)
    .join('; ');
}
