import { z } from 'zod';

const classicName = z
  .string()
  .regex(/^[A-Za-z0-9-]{1,32}$/, 'a Classic Load Balancer name (1–32 letters, digits, hyphens)');
const applicationBalancer = z
  .string()
  .regex(
    /^(arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:loadbalancer\/app\/[A-Za-z0-9-]{1,32}\/[0-9a-f]+|[A-Za-z0-9-]{1,32})$/,
    'an Application Load Balancer ARN (…:loadbalancer/app/NAME/ID) or name',
  );

/**
 * What each slot's load balancer replicates: a Classic ELB by name, or an Application Load
 * Balancer (by ARN or name) whose listeners forward to one target group, which is replicated too.
 */
const replicatedBalancer = z.union([
  z.object({ classic: classicName.describe('The Classic ELB each slot gets a copy of') }).strict(),
  z
    .object({
      application: applicationBalancer.describe(
        'The Application Load Balancer each slot gets a copy of (its listeners and target group too)',
      ),
    })
    .strict(),
]);

/**
 * `replicate:` of mode `replica-stack`: the stack the app ran on before cutover ("blue's"), which
 * each slot's stack copies at provision. At least one of the two keys.
 */
export const replicateSettings = z
  .object({
    group: z
      .string()
      .min(1)
      .max(255)
      .optional()
      .describe(
        "The Auto Scaling group whose target-tracking, simple and step scaling policies (and the simple/step policies' CloudWatch alarms) each slot's group gets, with its own dimensions",
      ),
    loadBalancer: replicatedBalancer
      .optional()
      .describe(
        "The load balancer each slot gets its own exact replica of (listeners, security groups, subnets, health check, attributes); the slot's endpoint is then that load balancer",
      ),
  })
  .strict()
  .refine((value) => value.group !== undefined || value.loadBalancer !== undefined, {
    message: 'name a `group` (scaling policies to copy), a `loadBalancer` (to replicate), or both',
  });

export type ReplicateSettings = z.infer<typeof replicateSettings>;
export type ReplicatedBalancer = NonNullable<ReplicateSettings['loadBalancer']>;
