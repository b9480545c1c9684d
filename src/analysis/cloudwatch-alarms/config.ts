import { z } from 'zod';
import { callTimeout } from '../../aws/call-timeout.js';
import { AWS_CONNECTION_SETTINGS } from '../../aws/connection.js';
import { providerName } from '../provider-name.js';

/** CloudWatch's own limits: an alarm name is 1–255 characters; DescribeAlarms takes 100 names. */
const alarmName = z.string().min(1).max(255);

export const cloudwatchAlarmsConfig = z
  .object({
    kind: z.literal('cloudwatch-alarms'),
    name: providerName(),
    alarms: z
      .array(alarmName)
      .max(100)
      .default([])
      .describe(
        'Alarms by name; any of them in ALARM fails the analysis (a name that does not exist is inconclusive)',
      ),
    alarmPrefix: alarmName
      .optional()
      .describe('Every alarm whose name starts with this; any of them in ALARM fails the analysis'),
    ...AWS_CONNECTION_SETTINGS,
    callTimeout: callTimeout(),
  })
  .strict()
  .describe('Fails when a named CloudWatch alarm (or one with the prefix) is in ALARM');

export type CloudwatchAlarmsConfig = z.output<typeof cloudwatchAlarmsConfig>;
