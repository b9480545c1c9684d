/**
 * `cutover deploy --plan` for mode replica-stack: what provision(), stop() and the cold
 * standby's park() would send now, read with describe calls only and built with the input
 * functions the executors send (classic-elb-replica.ts, application-lb-replica.ts,
 * scaling-policy-copy.ts, replica-group-calls.ts). The order follows provision(): the slot's
 * copies for other releases go, the group comes (replica-group-plan.ts), other releases' load
 * balancers go, the slot's replica is made or brought in line, the group attached to it, the
 * scaling policies and their alarms copied, the wait until the replica serves every instance,
 * then alarm scaling resumed.
 */
import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { ElasticLoadBalancingClient } from '@aws-sdk/client-elastic-load-balancing';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { cutoverTags } from '../../aws/cutover-tags.js';
import { plannedCall, type AwsCallSpec } from '../../aws/planned-call.js';
import { CutoverError } from '../../shared/errors.js';
import { placeholder, type PlannedStep, type PlannedValue } from '../../shared/plan.js';
import type { StopOptions } from '../../shared/platform.js';
import type { Slot } from '../../shared/slot.js';
import {
  applicationBalancerAttributesInput,
  applicationReplicasOf,
  assertApplicationOurs,
  createApplicationBalancerInput,
  createListenerInput,
  createTargetGroupInput,
  describeBalancer,
  describeTargetGroup,
  listenersOf,
  readBalancerAttributes,
  readSource,
  readTargetGroupAttributes,
  replicaDimension,
} from './application-lb-replica.js';
import {
  assertClassicOurs,
  classicAttributesInput,
  classicReplicasOf,
  createClassicInput,
  describeClassic,
} from './classic-elb-replica.js';
import { DescribeLoadBalancerAttributesCommand } from '@aws-sdk/client-elastic-load-balancing';
import { awsStep } from './aws-step.js';
import { groupName } from './group-naming.js';
import {
  planReplicaGroupProvision,
  planReplicaGroupStop,
  type ReplicaGroupPlanContext,
} from './replica-group-plan.js';
import { scaleToZeroCall } from './replica-group-calls.js';
import { copiedName, replicaName } from './replica-naming.js';
import type { ReplicateSettings } from './replica-stack-config.js';
import {
  COPIED_TYPES,
  DELETE_ALARMS_BATCH,
  OWN_ALARMS_OF,
  alarmInput,
  allAlarms,
  copiedAlarmNames,
  copiedPolicyNames,
  policiesOf,
  policyInput,
} from './scaling-policy-copy.js';
import { groupsOf } from './slot-groups.js';
import { resumeAlarmScalingCall, suspendAlarmScalingCall } from './stack-cold-standby.js';

export interface ReplicaStackPlanContext extends ReplicaGroupPlanContext {
  readonly elb: ElasticLoadBalancingClient;
  readonly elbv2: ElasticLoadBalancingV2Client;
  readonly cloudwatch: CloudWatchClient;
  readonly replicate: ReplicateSettings;
}

/**
 * Values only an earlier call of the same provision gives (a new target group's ARN, a copied
 * policy's ARN, the deployment's id): the input functions take strings, so each is passed as a
 * marker that no AWS value looks like, and the markers become placeholders in the plan.
 */
class Markers {
  private readonly names = new Map<string, string>();

  of(name: string): string {
    const marker = `\u0000${name}\u0000`;
    this.names.set(marker, name);
    return marker;
  }

  call(spec: AwsCallSpec<object>, condition?: string): PlannedStep {
    const step = plannedCall(spec, condition);
    return step.kind === 'call' ? { ...step, input: this.resolve(step.input) as typeof step.input } : step;
  }

  private resolve(value: PlannedValue): PlannedValue {
    if (typeof value === 'string') {
      const name = this.names.get(value);
      return name === undefined ? value : placeholder(name);
    }
    if (Array.isArray(value)) return value.map((inner: PlannedValue) => this.resolve(inner));
    if (typeof value === 'object' && !('placeholder' in value)) {
      return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, this.resolve(inner)]));
    }
    return value;
  }
}

/** The steps of provision(slot, release), and the endpoint's load balancer name (if any). */
export async function planReplicaStackProvision(
  ctx: ReplicaStackPlanContext,
  slot: Slot,
  release: string,
  options: { deploymentId?: string } = {},
): Promise<{ steps: PlannedStep[]; group: string }> {
  const { app, asg, cloudwatch, replicate } = ctx;
  const markers = new Markers();
  const steps: PlannedStep[] = [];
  const keep = new Set([release]);
  // The slot's copies for other releases: alarms first, then the policies of those groups.
  const alarms = await copiedAlarmNames(cloudwatch, groupName(app, slot, ''), app, slot, keep);
  for (let i = 0; i < alarms.length; i += DELETE_ALARMS_BATCH) {
    steps.push(
      markers.call({
        service: 'monitoring',
        operation: 'DeleteAlarms',
        input: { AlarmNames: alarms.slice(i, i + DELETE_ALARMS_BATCH) },
      }),
    );
  }
  for (const old of await groupsOf(asg, app, slot)) {
    if (keep.has(old.release)) continue;
    for (const name of await copiedPolicyNames(asg, old.name)) {
      steps.push(
        markers.call({
          service: 'autoscaling',
          operation: 'DeletePolicy',
          input: { AutoScalingGroupName: old.name, PolicyName: name },
        }),
      );
    }
  }
  const planned = await planReplicaGroupProvision(ctx, slot, release, options);
  steps.push(...planned.steps);
  const group = planned.group;
  steps.push(...(await planBalancerRemoval(ctx, slot, keep, markers)));
  const tags = cutoverTags({
    app,
    slot,
    release,
    deployment: options.deploymentId ?? markers.of('id of this deployment'),
  });
  const name = replicaName(app, slot, release);
  const replica = await planReplica(ctx, name, group, tags, markers);
  steps.push(...replica.steps);
  if (replicate.group !== undefined) {
    steps.push(...(await planPolicyCopy(ctx, replicate.group, group, replica.renames, tags, markers)));
  }
  if (replicate.loadBalancer !== undefined) {
    steps.push({
      kind: 'wait',
      until: `load balancer ${name} counts every instance of ${group} in service`,
      deadlineMs: ctx.config.readyTimeout,
    });
  }
  steps.push(markers.call(resumeAlarmScalingCall(group)));
  return { steps, group };
}

/** stop(slot): alarm scaling suspended on each group, then the group's stop (to zero). */
export async function planReplicaStackStop(
  ctx: ReplicaStackPlanContext,
  slot: Slot,
  options: StopOptions,
): Promise<PlannedStep[]> {
  const steps: PlannedStep[] = [];
  for (const group of await groupsOf(ctx.asg, ctx.app, slot)) {
    if (group.deleting) continue;
    steps.push(plannedCall(suspendAlarmScalingCall(group.name)));
  }
  return [...steps, ...(await planReplicaGroupStop(ctx, slot, options))];
}

/** The cold standby's park(slot) once the slot has drained: suspended, then to 0 where it is not. */
export async function planReplicaStackPark(ctx: ReplicaStackPlanContext, slot: Slot): Promise<PlannedStep[]> {
  const steps: PlannedStep[] = [];
  for (const group of await groupsOf(ctx.asg, ctx.app, slot)) {
    if (group.deleting) continue;
    steps.push(plannedCall(suspendAlarmScalingCall(group.name)));
    if (group.min === 0 && group.desired === 0) continue;
    steps.push(plannedCall(scaleToZeroCall(group.name)));
  }
  return steps;
}

/** Load balancers (and target groups) cutover made for the slot's other releases. */
async function planBalancerRemoval(
  ctx: ReplicaStackPlanContext,
  slot: Slot,
  keep: ReadonlySet<string>,
  markers: Markers,
): Promise<PlannedStep[]> {
  const source = ctx.replicate.loadBalancer;
  if (source === undefined) return [];
  const replicas =
    'classic' in source
      ? await classicReplicasOf(ctx.elb, ctx.app, slot)
      : await applicationReplicasOf(ctx.elbv2, ctx.app, slot);
  return replicas
    .filter((replica) => !keep.has(replica.release))
    .flatMap((replica) =>
      replica.resources.map((part) =>
        markers.call({
          service: 'elasticloadbalancing',
          operation: part.kind === 'target-group' ? 'DeleteTargetGroup' : 'DeleteLoadBalancer',
          input:
            part.kind === 'classic'
              ? { LoadBalancerName: part.id }
              : part.kind === 'application'
                ? { LoadBalancerArn: part.id }
                : { TargetGroupArn: part.id },
        }),
      ),
    );
}

/** The replica's calls, the group's attachment, and the dimension renames the copies use. */
async function planReplica(
  ctx: ReplicaStackPlanContext,
  name: string,
  group: string,
  tags: { Key: string; Value: string }[],
  markers: Markers,
): Promise<{ steps: PlannedStep[]; renames: Map<string, string> }> {
  const source = ctx.replicate.loadBalancer;
  if (source === undefined) return { steps: [], renames: new Map() };
  const steps: PlannedStep[] = [];
  if ('classic' in source) {
    const original = await describeClassic(ctx.elb, source.classic);
    if (original === undefined) {
      throw new CutoverError(
        'CUTOVER_E_PROVISION',
        `the Classic ELB ${source.classic} to replicate does not exist`,
        { details: { loadBalancer: source.classic } },
      );
    }
    if ((await describeClassic(ctx.elb, name)) === undefined) {
      steps.push(
        markers.call({
          service: 'elasticloadbalancing',
          operation: 'CreateLoadBalancer',
          input: createClassicInput(original, name, tags),
        }),
      );
    } else {
      await assertClassicOurs(ctx.elb, name, ctx.app);
    }
    if (original.HealthCheck !== undefined) {
      steps.push(
        markers.call({
          service: 'elasticloadbalancing',
          operation: 'ConfigureHealthCheck',
          input: { LoadBalancerName: name, HealthCheck: original.HealthCheck },
        }),
      );
    }
    const attributes = await awsStep(
      `DescribeLoadBalancerAttributes(${source.classic})`,
      ctx.elb,
      (abortSignal) =>
        ctx.elb.send(new DescribeLoadBalancerAttributesCommand({ LoadBalancerName: source.classic }), {
          abortSignal,
        }),
    );
    steps.push(
      markers.call({
        service: 'elasticloadbalancing',
        operation: 'ModifyLoadBalancerAttributes',
        input: classicAttributesInput(name, attributes.LoadBalancerAttributes ?? {}),
      }),
    );
    steps.push(
      markers.call({
        service: 'autoscaling',
        operation: 'AttachLoadBalancers',
        input: { AutoScalingGroupName: group, LoadBalancerNames: [name] },
      }),
    );
    return { steps, renames: new Map([[source.classic, name]]) };
  }
  const original = await readSource(ctx.elbv2, source.application);
  const sourceGroupArn = original.targetGroup.TargetGroupArn!;
  const existingGroup = await describeTargetGroup(ctx.elbv2, name);
  let groupArn: string;
  if (existingGroup === undefined) {
    steps.push(
      markers.call({
        service: 'elasticloadbalancing',
        operation: 'CreateTargetGroup',
        input: createTargetGroupInput(original.targetGroup, name, tags),
      }),
    );
    groupArn = markers.of(`ARN of target group ${name}`);
  } else {
    await assertApplicationOurs(ctx.elbv2, existingGroup.TargetGroupArn!, `target group ${name}`, ctx.app);
    groupArn = existingGroup.TargetGroupArn!;
  }
  const groupAttributes = await readTargetGroupAttributes(ctx.elbv2, sourceGroupArn);
  if (groupAttributes.length > 0) {
    steps.push(
      markers.call({
        service: 'elasticloadbalancing',
        operation: 'ModifyTargetGroupAttributes',
        input: { TargetGroupArn: groupArn, Attributes: groupAttributes },
      }),
    );
  }
  const existingBalancer = await describeBalancer(ctx.elbv2, { Names: [name] });
  let balancerArn: string;
  if (existingBalancer === undefined) {
    steps.push(
      markers.call({
        service: 'elasticloadbalancing',
        operation: 'CreateLoadBalancer',
        input: createApplicationBalancerInput(original.balancer, name, tags),
      }),
    );
    balancerArn = markers.of(`ARN of load balancer ${name}`);
  } else {
    await assertApplicationOurs(
      ctx.elbv2,
      existingBalancer.LoadBalancerArn!,
      `load balancer ${name}`,
      ctx.app,
    );
    balancerArn = existingBalancer.LoadBalancerArn!;
  }
  const balancerAttributes = await readBalancerAttributes(ctx.elbv2, original.balancer.LoadBalancerArn!);
  if (balancerAttributes.length > 0) {
    steps.push(
      markers.call({
        service: 'elasticloadbalancing',
        operation: 'ModifyLoadBalancerAttributes',
        input: applicationBalancerAttributesInput(balancerArn, balancerAttributes),
      }),
    );
  }
  const made = existingBalancer === undefined ? [] : await listenersOf(ctx.elbv2, balancerArn);
  for (const listener of original.listeners) {
    if (made.some((found) => found.Port === listener.Port)) continue;
    steps.push(
      markers.call({
        service: 'elasticloadbalancing',
        operation: 'CreateListener',
        input: createListenerInput(balancerArn, listener, sourceGroupArn, groupArn, tags),
      }),
    );
  }
  steps.push(
    markers.call({
      service: 'autoscaling',
      operation: 'AttachLoadBalancerTargetGroups',
      input: { AutoScalingGroupName: group, TargetGroupARNs: [groupArn] },
    }),
  );
  const balancerTo =
    existingBalancer === undefined
      ? markers.of(`CloudWatch name of load balancer ${name}`)
      : replicaDimension(balancerArn);
  const groupTo =
    existingGroup === undefined
      ? markers.of(`CloudWatch name of target group ${name}`)
      : replicaDimension(groupArn);
  const balancerFrom = replicaDimension(original.balancer.LoadBalancerArn!);
  const groupFrom = replicaDimension(sourceGroupArn);
  const renames = new Map([
    [balancerFrom, balancerTo],
    [groupFrom, groupTo],
    [
      `${balancerFrom}/${groupFrom}`,
      existingBalancer === undefined || existingGroup === undefined
        ? markers.of(`CloudWatch name of target group ${name} behind its load balancer`)
        : `${balancerTo}/${groupTo}`,
    ],
  ]);
  return { steps, renames };
}

/** copyScalingPolicies(): a put per copied policy, then per alarm that triggers a copied simple or step policy. */
async function planPolicyCopy(
  ctx: ReplicaStackPlanContext,
  source: string,
  target: string,
  renames: ReadonlyMap<string, string>,
  tags: { Key: string; Value: string }[],
  markers: Markers,
): Promise<PlannedStep[]> {
  const found = await ctx.asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [source] }));
  if (!(found.AutoScalingGroups ?? []).some((group) => group.AutoScalingGroupName === source)) {
    throw new CutoverError(
      'CUTOVER_E_PROVISION',
      `the Auto Scaling group ${source} whose scaling policies replicate.group copies does not exist`,
      { details: { group: source } },
    );
  }
  const policies = (await policiesOf(ctx.asg, source)).filter((policy) =>
    COPIED_TYPES.has(policy.PolicyType ?? ''),
  );
  const allRenames = new Map([...renames, [source, target]]);
  const existing = await copiedPolicyArns(ctx.asg, target);
  const arnOfCopy = new Map<string, string>();
  const steps: PlannedStep[] = [];
  for (const policy of policies) {
    steps.push(
      markers.call({
        service: 'autoscaling',
        operation: 'PutScalingPolicy',
        input: policyInput(policy, target, allRenames),
      }),
    );
    if (!OWN_ALARMS_OF.has(policy.PolicyType ?? '')) {
      const copy = copiedName(target, policy.PolicyName!);
      arnOfCopy.set(policy.PolicyARN!, existing.get(copy) ?? markers.of(`ARN of scaling policy ${copy}`));
    }
  }
  if (arnOfCopy.size === 0) return steps;
  for (const alarm of await allAlarms(ctx.cloudwatch)) {
    const actions = [
      ...(alarm.AlarmActions ?? []),
      ...(alarm.OKActions ?? []),
      ...(alarm.InsufficientDataActions ?? []),
    ];
    if (!actions.some((action) => arnOfCopy.has(action))) continue;
    steps.push(
      markers.call({
        service: 'monitoring',
        operation: 'PutMetricAlarm',
        input: alarmInput(alarm, target, allRenames, arnOfCopy, tags),
      }),
    );
  }
  return steps;
}

/** The ARNs of policies already copied onto the group (a resumed provision), by name. */
async function copiedPolicyArns(asg: AutoScalingClient, group: string): Promise<Map<string, string>> {
  const names = new Set(await copiedPolicyNames(asg, group));
  if (names.size === 0) return new Map();
  return new Map(
    (await policiesOf(asg, group))
      .filter((policy) => names.has(policy.PolicyName ?? ''))
      .map((policy) => [policy.PolicyName!, policy.PolicyARN!] as const),
  );
}
