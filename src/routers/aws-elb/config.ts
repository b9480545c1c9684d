import { z } from 'zod';
import { callTimeout } from '../../aws/call-timeout.js';
import { AWS_CONNECTION_SETTINGS } from '../../aws/connection.js';
import { settleTimeout } from '../../config/fields.js';

export const awsElbRouterConfig = z
  .object({
    kind: z.literal('aws-elb'),
    loadBalancer: z
      .string()
      .regex(
        /^(?!-)[A-Za-z0-9-]{1,32}(?<!-)$/,
        'a Classic ELB name: up to 32 letters, digits and hyphens, not starting or ending with a hyphen',
      )
      .describe('The Classic ELB the slots’ Auto Scaling groups are attached to, by name'),
    ...AWS_CONNECTION_SETTINGS,
    settleTimeout: settleTimeout(),
    callTimeout: callTimeout(),
  })
  .strict();
export type AwsElbRouterConfig = z.infer<typeof awsElbRouterConfig>;
