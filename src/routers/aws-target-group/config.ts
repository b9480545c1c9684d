import { z } from 'zod';
import { callTimeout } from '../../aws/call-timeout.js';
import { AWS_CONNECTION_SETTINGS } from '../../aws/connection.js';
import { settleTimeout } from '../../config/fields.js';

/** A target group's ARN, or its name (1–32 letters, digits and hyphens, no leading/trailing hyphen). */
const targetGroupArnOrName = z
  .string()
  .regex(
    /^(arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:targetgroup\/[A-Za-z0-9-]{1,32}\/[0-9a-f]+|(?!-)[A-Za-z0-9-]{1,32}(?<!-))$/,
    'a target group ARN (arn:aws:elasticloadbalancing:REGION:ACCOUNT:targetgroup/NAME/ID) or name (up to 32 letters, digits and hyphens)',
  );

export const awsTargetGroupRouterConfig = z
  .object({
    kind: z.literal('aws-target-group'),
    targetGroup: targetGroupArnOrName.describe(
      'The ALB/NLB target group the slots’ Auto Scaling groups are attached to, by ARN or name',
    ),
    ...AWS_CONNECTION_SETTINGS,
    settleTimeout: settleTimeout(),
    callTimeout: callTimeout(),
  })
  .strict();
export type AwsTargetGroupRouterConfig = z.infer<typeof awsTargetGroupRouterConfig>;
