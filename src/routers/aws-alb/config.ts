import { z } from 'zod';
import { callTimeout } from '../../aws/call-timeout.js';
import { AWS_CONNECTION_SETTINGS } from '../../aws/connection.js';
import { duration, settleTimeout } from '../../config/fields.js';

const ARN_PREFIX = 'arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\\d{12}';
const LISTENER_ARN = new RegExp(`^${ARN_PREFIX}:listener/app/[A-Za-z0-9-]{1,32}/[0-9a-f]+/[0-9a-f]+$`);
const RULE_ARN = new RegExp(
  `^${ARN_PREFIX}:listener-rule/app/[A-Za-z0-9-]{1,32}/[0-9a-f]+/[0-9a-f]+/[0-9a-f]+$`,
);

/** A target group's ARN, or its name (1–32 letters, digits and hyphens, no leading/trailing hyphen). */
const targetGroupArnOrName = z
  .string()
  .regex(
    new RegExp(`^(${ARN_PREFIX}:targetgroup/[A-Za-z0-9-]{1,32}/[0-9a-f]+|(?!-)[A-Za-z0-9-]{1,32}(?<!-))$`),
    'a target group ARN (arn:aws:elasticloadbalancing:REGION:ACCOUNT:targetgroup/NAME/ID) or name (up to 32 letters, digits and hyphens)',
  );

/** AWS's bounds on a forward action's target group stickiness: 1 second to 7 days. */
const STICKINESS_MIN_MS = 1_000;
const STICKINESS_MAX_MS = 7 * 24 * 3600_000;

/** The listener a rule ARN belongs to: the rule ARN without its last segment, `listener` for `listener-rule`. */
export function listenerOfRule(ruleArn: string): string {
  return ruleArn.replace(':listener-rule/', ':listener/').replace(/\/[0-9a-f]+$/, '');
}

export const awsAlbRouterConfig = z
  .object({
    kind: z.literal('aws-alb'),
    listenerArn: z
      .string()
      .regex(
        LISTENER_ARN,
        'an ALB listener ARN (arn:aws:elasticloadbalancing:REGION:ACCOUNT:listener/app/NAME/ID/ID)',
      )
      .optional()
      .describe(
        'The ALB listener whose default action cutover owns (a weighted forward to the two target groups)',
      ),
    ruleArn: z
      .string()
      .regex(
        RULE_ARN,
        'an ALB listener rule ARN (arn:aws:elasticloadbalancing:REGION:ACCOUNT:listener-rule/app/NAME/ID/ID/ID)',
      )
      .optional()
      .describe('Instead of the default action: the listener rule whose action cutover owns'),
    targetGroups: z
      .object({
        blue: targetGroupArnOrName.describe('The target group of slot blue, by ARN or name'),
        green: targetGroupArnOrName.describe('The target group of slot green, by ARN or name'),
      })
      .strict()
      .describe('One target group per slot; each slot’s Auto Scaling group is attached to its own'),
    stickiness: duration()
      .optional()
      .describe(
        'During a shift, keep each client on the version it first got for this long (target group stickiness, 1s to 7d, whole seconds); default: no stickiness',
      ),
    previewPriority: z
      .number()
      .int()
      .min(1)
      .max(50_000)
      .default(1)
      .describe('Priority of the preview rule cutover adds to the listener (it must come before ruleArn)'),
    ...AWS_CONNECTION_SETTINGS,
    settleTimeout: settleTimeout(),
    callTimeout: callTimeout(),
  })
  .strict()
  .superRefine((config, ctx) => {
    if ((config.listenerArn === undefined) === (config.ruleArn === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [config.listenerArn === undefined ? 'listenerArn' : 'ruleArn'],
        message: 'give exactly one of listenerArn (the default action) or ruleArn (one rule of the listener)',
      });
    }
    if (config.targetGroups.blue === config.targetGroups.green) {
      ctx.addIssue({
        code: 'custom',
        path: ['targetGroups', 'green'],
        message: 'each slot needs its own target group: blue and green name the same one',
      });
    }
    const sticky = config.stickiness;
    if (
      sticky !== undefined &&
      (sticky < STICKINESS_MIN_MS || sticky > STICKINESS_MAX_MS || sticky % 1000 !== 0)
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['stickiness'],
        message: 'AWS takes a stickiness of whole seconds from 1s to 7d',
      });
    }
  });
export type AwsAlbRouterConfig = z.infer<typeof awsAlbRouterConfig>;
