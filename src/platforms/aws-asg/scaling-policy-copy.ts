import {
  DeletePolicyCommand,
  DescribeAutoScalingGroupsCommand,
  DescribePoliciesCommand,
  PutScalingPolicyCommand,
  type AutoScalingClient,
  type ScalingPolicy,
} from '@aws-sdk/client-auto-scaling';
import {
  DeleteAlarmsCommand,
  DescribeAlarmsCommand,
  ListTagsForResourceCommand,
  PutMetricAlarmCommand,
  type CloudWatchClient,
  type Dimension,
  type MetricAlarm,
} from '@aws-sdk/client-cloudwatch';
import { CUTOVER_TAG, tagValue } from '../../aws/cutover-tags.js';
import { CutoverError } from '../../shared/errors.js';
import { awsStep, failedWith } from './aws-step.js';
import { awsCrashPoint } from './crash-point.js';
import { copiedName } from './replica-naming.js';

/** The policy types copied; predictive scaling forecasts from the source's own history, so it stays. */
export const COPIED_TYPES = new Set(['TargetTrackingScaling', 'SimpleScaling', 'StepScaling']);
/** AWS makes (and deletes) a target-tracking policy's alarms itself: copying them would double them. */
export const OWN_ALARMS_OF = new Set(['TargetTrackingScaling']);
export const DELETE_ALARMS_BATCH = 100;

export interface PolicyCopy {
  readonly policies: number;
  readonly alarms: number;
}

/**
 * Copies the scaling policies of `source` onto `target` (named `<target>/<original>`), then every alarm that triggers a copied simple or step policy, named after the target
 * group, with the source's group and load balancer dimensions replaced by the target's and its
 * actions pointed at the copied policies. Puts overwrite, so a rerun after a crash duplicates
 * nothing.
 */
export async function copyScalingPolicies(
  asg: AutoScalingClient,
  cloudwatch: CloudWatchClient,
  source: string,
  target: string,
  renames: ReadonlyMap<string, string>,
  tags: { Key: string; Value: string }[],
): Promise<PolicyCopy> {
  // A misspelt group would otherwise copy nothing, silently: DescribePolicies answers it empty.
  const found = await awsStep(`DescribeAutoScalingGroups(${source})`, asg, (abortSignal) =>
    asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [source] }), { abortSignal }),
  );
  if (!(found.AutoScalingGroups ?? []).some((group) => group.AutoScalingGroupName === source)) {
    throw new CutoverError(
      'CUTOVER_E_PROVISION',
      `the Auto Scaling group ${source} whose scaling policies replicate.group copies does not exist`,
      { details: { group: source } },
    );
  }
  const policies = (await policiesOf(asg, source)).filter((policy) =>
    COPIED_TYPES.has(policy.PolicyType ?? ''),
  );
  const allRenames = new Map([...renames, [source, target]]);
  const arnOfCopy = new Map<string, string>();
  for (const policy of policies) {
    const put = await awsStep(`PutScalingPolicy(${target}, ${policy.PolicyName})`, asg, (abortSignal) =>
      asg.send(new PutScalingPolicyCommand(policyInput(policy, target, allRenames)), { abortSignal }),
    );
    if (!OWN_ALARMS_OF.has(policy.PolicyType ?? '')) {
      arnOfCopy.set(
        policy.PolicyARN!,
        put.PolicyARN ?? (await policyArn(asg, target, copiedName(target, policy.PolicyName!))),
      );
    }
    awsCrashPoint();
  }
  let alarms = 0;
  if (arnOfCopy.size === 0) return { policies: policies.length, alarms };
  for (const alarm of await allAlarms(cloudwatch)) {
    const actions = [
      ...(alarm.AlarmActions ?? []),
      ...(alarm.OKActions ?? []),
      ...(alarm.InsufficientDataActions ?? []),
    ];
    if (!actions.some((action) => arnOfCopy.has(action))) continue;
    await awsStep(`PutMetricAlarm(${alarm.AlarmName})`, cloudwatch, (abortSignal) =>
      cloudwatch.send(new PutMetricAlarmCommand(alarmInput(alarm, target, allRenames, arnOfCopy, tags)), {
        abortSignal,
      }),
    );
    alarms += 1;
    awsCrashPoint();
  }
  return { policies: policies.length, alarms };
}

/** Deletes the policies cutover copied onto the group (AWS then deletes a target-tracking policy's own alarms). */
export async function deleteScalingPolicies(asg: AutoScalingClient, group: string): Promise<void> {
  for (const name of await copiedPolicyNames(asg, group)) {
    await awsStep(`DeletePolicy(${group}, ${name})`, asg, (abortSignal) =>
      asg.send(new DeletePolicyCommand({ AutoScalingGroupName: group, PolicyName: name }), {
        abortSignal,
      }),
    );
  }
}

/** The policies cutover copied onto the group (named `<group>/…`); none when the group is gone. */
export async function copiedPolicyNames(asg: AutoScalingClient, group: string): Promise<string[]> {
  let policies: ScalingPolicy[];
  try {
    policies = await policiesOf(asg, group);
  } catch (error) {
    if (failedWith(error, 'ValidationError')) return [];
    throw error;
  }
  return policies.map((policy) => policy.PolicyName ?? '').filter((name) => name.startsWith(`${group}/`));
}

/**
 * Deletes the alarms cutover copied for the app's slot — found by the name prefix its groups
 * share and then kept only when their tags say they are cutover's for that app and slot, with a
 * release not in `keepReleases`.
 */
export async function deleteCopiedAlarms(
  cloudwatch: CloudWatchClient,
  namePrefix: string,
  app: string,
  slot: string,
  keepReleases: ReadonlySet<string> = new Set(),
): Promise<number> {
  const doomed = await copiedAlarmNames(cloudwatch, namePrefix, app, slot, keepReleases);
  for (let i = 0; i < doomed.length; i += DELETE_ALARMS_BATCH) {
    await awsStep('DeleteAlarms', cloudwatch, (abortSignal) =>
      cloudwatch.send(new DeleteAlarmsCommand({ AlarmNames: doomed.slice(i, i + DELETE_ALARMS_BATCH) }), {
        abortSignal,
      }),
    );
  }
  return doomed.length;
}

/** The alarms deleteCopiedAlarms deletes, read without deleting them (a plan lists them). */
export async function copiedAlarmNames(
  cloudwatch: CloudWatchClient,
  namePrefix: string,
  app: string,
  slot: string,
  keepReleases: ReadonlySet<string> = new Set(),
): Promise<string[]> {
  const doomed: string[] = [];
  for (const alarm of await allAlarms(cloudwatch, namePrefix)) {
    const tags = await awsStep(`ListTagsForResource(${alarm.AlarmName})`, cloudwatch, (abortSignal) =>
      cloudwatch.send(new ListTagsForResourceCommand({ ResourceARN: alarm.AlarmArn }), { abortSignal }),
    );
    const release = tagValue(tags.Tags, CUTOVER_TAG.release);
    if (tagValue(tags.Tags, CUTOVER_TAG.app) !== app || tagValue(tags.Tags, CUTOVER_TAG.slot) !== slot)
      continue;
    if (release !== undefined && keepReleases.has(release)) continue;
    doomed.push(alarm.AlarmName!);
  }
  return doomed;
}

export async function policiesOf(asg: AutoScalingClient, group: string): Promise<ScalingPolicy[]> {
  const found: ScalingPolicy[] = [];
  let token: string | undefined;
  do {
    const page = await awsStep(`DescribePolicies(${group})`, asg, (abortSignal) =>
      asg.send(new DescribePoliciesCommand({ AutoScalingGroupName: group, NextToken: token }), {
        abortSignal,
      }),
    );
    found.push(...(page.ScalingPolicies ?? []));
    token = page.NextToken;
  } while (token);
  return found.sort((a, b) => (a.PolicyName ?? '').localeCompare(b.PolicyName ?? ''));
}

/** A policy's ARN read back (moto's PutScalingPolicy answers without it). */
async function policyArn(asg: AutoScalingClient, group: string, name: string): Promise<string> {
  const answer = await awsStep(`DescribePolicies(${group}, ${name})`, asg, (abortSignal) =>
    asg.send(new DescribePoliciesCommand({ AutoScalingGroupName: group, PolicyNames: [name] }), {
      abortSignal,
    }),
  );
  const arn = answer.ScalingPolicies?.find((policy) => policy.PolicyName === name)?.PolicyARN;
  if (arn === undefined) {
    throw new CutoverError(
      'CUTOVER_E_PROVISION',
      `scaling policy ${name} of ${group} was put but is not listed`,
      {
        details: { group, policy: name },
      },
    );
  }
  return arn;
}

export async function allAlarms(cloudwatch: CloudWatchClient, prefix?: string): Promise<MetricAlarm[]> {
  const found: MetricAlarm[] = [];
  let token: string | undefined;
  do {
    const page = await awsStep('DescribeAlarms', cloudwatch, (abortSignal) =>
      cloudwatch.send(
        new DescribeAlarmsCommand({
          AlarmTypes: ['MetricAlarm'],
          NextToken: token,
          ...(prefix === undefined ? {} : { AlarmNamePrefix: prefix }),
        }),
        { abortSignal },
      ),
    );
    found.push(...(page.MetricAlarms ?? []));
    token = page.NextToken;
  } while (token);
  return found;
}

export function policyInput(policy: ScalingPolicy, target: string, renames: ReadonlyMap<string, string>) {
  const tracking = policy.TargetTrackingConfiguration;
  const predefined = tracking?.PredefinedMetricSpecification;
  const custom = tracking?.CustomizedMetricSpecification;
  return {
    AutoScalingGroupName: target,
    PolicyName: copiedName(target, policy.PolicyName!),
    PolicyType: policy.PolicyType,
    ...(policy.AdjustmentType ? { AdjustmentType: policy.AdjustmentType } : {}),
    ...(policy.ScalingAdjustment === undefined ? {} : { ScalingAdjustment: policy.ScalingAdjustment }),
    ...(policy.Cooldown === undefined ? {} : { Cooldown: policy.Cooldown }),
    ...(policy.MinAdjustmentMagnitude === undefined
      ? {}
      : { MinAdjustmentMagnitude: policy.MinAdjustmentMagnitude }),
    ...(policy.StepAdjustments?.length ? { StepAdjustments: policy.StepAdjustments } : {}),
    ...(policy.MetricAggregationType ? { MetricAggregationType: policy.MetricAggregationType } : {}),
    ...(policy.EstimatedInstanceWarmup === undefined
      ? {}
      : { EstimatedInstanceWarmup: policy.EstimatedInstanceWarmup }),
    ...(policy.Enabled === undefined ? {} : { Enabled: policy.Enabled }),
    ...(tracking === undefined
      ? {}
      : {
          TargetTrackingConfiguration: {
            ...tracking,
            ...(predefined === undefined
              ? {}
              : {
                  PredefinedMetricSpecification: {
                    ...predefined,
                    ...(predefined.ResourceLabel === undefined
                      ? {}
                      : { ResourceLabel: renamed(predefined.ResourceLabel, renames) }),
                  },
                }),
            ...(custom?.Dimensions === undefined
              ? {}
              : {
                  CustomizedMetricSpecification: {
                    ...custom,
                    Dimensions: renamedDimensions(custom.Dimensions, renames),
                  },
                }),
          },
        }),
  };
}

export function alarmInput(
  alarm: MetricAlarm,
  target: string,
  renames: ReadonlyMap<string, string>,
  arnOfCopy: ReadonlyMap<string, string>,
  tags: { Key: string; Value: string }[],
) {
  // Another group's policy among the actions is not the copy's to trigger: it is dropped.
  if (
    alarm.AlarmName === undefined ||
    alarm.ComparisonOperator === undefined ||
    alarm.EvaluationPeriods === undefined
  ) {
    throw new CutoverError(
      'CUTOVER_E_PROVISION',
      `alarm ${alarm.AlarmName ?? '(unnamed)'} lacks the fields a copy needs`,
    );
  }
  const copies = new Set(arnOfCopy.values());
  const actions = (list: string[] | undefined) =>
    (list ?? [])
      .map((action) => arnOfCopy.get(action) ?? action)
      .filter((action) => !action.includes(':scalingPolicy:') || copies.has(action));
  return {
    AlarmName: copiedName(target, alarm.AlarmName),
    ...(alarm.AlarmDescription ? { AlarmDescription: alarm.AlarmDescription } : {}),
    ActionsEnabled: alarm.ActionsEnabled ?? true,
    AlarmActions: actions(alarm.AlarmActions),
    OKActions: actions(alarm.OKActions),
    InsufficientDataActions: actions(alarm.InsufficientDataActions),
    ComparisonOperator: alarm.ComparisonOperator,
    EvaluationPeriods: alarm.EvaluationPeriods,
    ...(alarm.DatapointsToAlarm === undefined ? {} : { DatapointsToAlarm: alarm.DatapointsToAlarm }),
    ...(alarm.Threshold === undefined ? {} : { Threshold: alarm.Threshold }),
    ...(alarm.ThresholdMetricId ? { ThresholdMetricId: alarm.ThresholdMetricId } : {}),
    ...(alarm.TreatMissingData ? { TreatMissingData: alarm.TreatMissingData } : {}),
    ...(alarm.EvaluateLowSampleCountPercentile
      ? { EvaluateLowSampleCountPercentile: alarm.EvaluateLowSampleCountPercentile }
      : {}),
    ...(alarm.MetricName ? { MetricName: alarm.MetricName } : {}),
    ...(alarm.Namespace ? { Namespace: alarm.Namespace } : {}),
    ...(alarm.Statistic ? { Statistic: alarm.Statistic } : {}),
    ...(alarm.ExtendedStatistic ? { ExtendedStatistic: alarm.ExtendedStatistic } : {}),
    ...(alarm.Period === undefined ? {} : { Period: alarm.Period }),
    ...(alarm.Unit ? { Unit: alarm.Unit } : {}),
    ...(alarm.Dimensions?.length ? { Dimensions: renamedDimensions(alarm.Dimensions, renames) } : {}),
    ...(alarm.Metrics?.length
      ? {
          Metrics: alarm.Metrics.map((query) =>
            query.MetricStat?.Metric?.Dimensions === undefined
              ? query
              : {
                  ...query,
                  MetricStat: {
                    ...query.MetricStat,
                    Metric: {
                      ...query.MetricStat.Metric,
                      Dimensions: renamedDimensions(query.MetricStat.Metric.Dimensions, renames),
                    },
                  },
                },
          ),
        }
      : {}),
    Tags: tags,
  };
}

function renamedDimensions(
  dimensions: readonly Dimension[],
  renames: ReadonlyMap<string, string>,
): Dimension[] {
  return dimensions.map((dimension) => ({
    Name: dimension.Name,
    Value: dimension.Value === undefined ? undefined : renamed(dimension.Value, renames),
  }));
}

function renamed(value: string, renames: ReadonlyMap<string, string>): string {
  return renames.get(value) ?? value;
}
