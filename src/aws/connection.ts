/**
 * How every AWS plug-in (the aws-asg platform, the aws-elb and aws-target-group routers, the
 * CloudFormation switch) reaches AWS: a region, an optional endpoint (moto or a VPC endpoint), a
 * retry budget. Credentials are never config keys: they come from the SDK's default chain
 * (environment, shared files, an instance or task role), so they stay in their files.
 */
import { z } from 'zod';

/** The SDK's own default retry budget. Tests against moto set 1 so an unimplemented call fails fast. */
export const AWS_MAX_ATTEMPTS_DEFAULT = 3;

/** Keys spread into each AWS plug-in's config schema. */
export const AWS_CONNECTION_SETTINGS = {
  region: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'an AWS region such as us-east-1')
    .describe('The AWS region of the resources (us-east-1 …)'),
  endpoint: z
    .string()
    .regex(/^https?:\/\/[^\s/?#]+(:\d+)?\/?$/, 'an http(s) URL with no path, such as http://127.0.0.1:5000')
    .optional()
    .describe('One endpoint for every AWS service (moto, or a VPC endpoint); default: the public endpoints'),
  maxAttempts: z
    .number()
    .int()
    .min(1)
    .max(10)
    .default(AWS_MAX_ATTEMPTS_DEFAULT)
    .describe('Attempts per AWS call, retries included (the SDK backs off between them)'),
};

export interface AwsConnection {
  readonly region: string;
  readonly endpoint?: string | undefined;
  readonly maxAttempts: number;
}

/** What every SDK v3 client constructor takes: `new AutoScalingClient(awsClientConfig(c))`. */
export function awsClientConfig(connection: AwsConnection): {
  region: string;
  endpoint?: string;
  maxAttempts: number;
} {
  return {
    region: connection.region,
    maxAttempts: connection.maxAttempts,
    ...(connection.endpoint === undefined ? {} : { endpoint: connection.endpoint }),
  };
}
