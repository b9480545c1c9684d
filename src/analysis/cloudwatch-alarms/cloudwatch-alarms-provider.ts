import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  type DescribeAlarmsCommandInput,
} from '@aws-sdk/client-cloudwatch';
import { awsCall, withCallTimeout } from '../../aws/aws-call.js';
import { callTimeoutOptions } from '../../aws/call-timeout.js';
import { awsClientConfig } from '../../aws/connection.js';
import { CutoverError } from '../../shared/errors.js';
import type { AnalysisProvider } from '../../shared/analysis.js';
import { alarmVerdict, type AlarmState } from './alarm-verdict.js';
import type { CloudwatchAlarmsConfig } from './config.js';

/** A prefix matching thousands of alarms is a config mistake; stop paging well before that. */
const MAX_PAGES = 20;

/**
 * Reads the alarms' current state (CloudWatch evaluates them; cutover only looks). The window
 * of the request is not needed: an alarm's state already covers its own evaluation periods.
 */
export class CloudwatchAlarmsProvider implements AnalysisProvider {
  readonly name: string;
  private client: CloudWatchClient | undefined;

  constructor(private readonly config: CloudwatchAlarmsConfig) {
    this.name = config.name ?? config.kind;
  }

  async check(): Promise<ReturnType<typeof alarmVerdict>> {
    const { alarms, alarmPrefix } = this.config;
    const found = new Map<string, AlarmState>();
    // CloudWatch refuses names and a prefix in one call: one call each.
    if (alarms.length > 0) await this.describe({ AlarmNames: [...alarms] }, found);
    if (alarmPrefix !== undefined) await this.describe({ AlarmNamePrefix: alarmPrefix }, found);
    return alarmVerdict(this.name, [...found.values()], { names: alarms, prefix: alarmPrefix });
  }

  close(): void {
    this.client?.destroy();
    this.client = undefined;
  }

  private async describe(input: DescribeAlarmsCommandInput, into: Map<string, AlarmState>): Promise<void> {
    const client = this.connect();
    let nextToken: string | undefined;
    for (let page = 1; page <= MAX_PAGES; page += 1) {
      const answer = await awsCall(
        'DescribeAlarms',
        client,
        (abortSignal) =>
          client.send(
            new DescribeAlarmsCommand({
              ...input,
              AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
              ...(nextToken === undefined ? {} : { NextToken: nextToken }),
            }),
            { abortSignal },
          ),
        'CUTOVER_E_ANALYSIS_PROVIDER',
      );
      for (const alarm of [...(answer.MetricAlarms ?? []), ...(answer.CompositeAlarms ?? [])]) {
        if (alarm.AlarmName === undefined) continue;
        into.set(alarm.AlarmName, {
          name: alarm.AlarmName,
          state: alarm.StateValue ?? 'unknown',
          reason: alarm.StateReason ?? '',
        });
      }
      nextToken = answer.NextToken;
      if (nextToken === undefined || nextToken === '') return;
    }
    throw new CutoverError(
      'CUTOVER_E_ANALYSIS_PROVIDER',
      `DescribeAlarms returned more than ${MAX_PAGES} pages for ${this.name}; name the alarms or narrow alarmPrefix`,
    );
  }

  private connect(): CloudWatchClient {
    this.client ??= withCallTimeout(
      new CloudWatchClient({
        ...awsClientConfig(this.config),
        ...callTimeoutOptions(this.config.callTimeout),
      }),
      this.config.callTimeout,
    );
    return this.client;
  }
}
